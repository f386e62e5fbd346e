package dev.trainyard.api.input;

import dev.trainyard.spec.FieldViolation;
import dev.trainyard.spec.InvalidFieldsException;
import jakarta.ws.rs.ext.Provider;
import jakarta.ws.rs.ext.ReaderInterceptor;
import jakarta.ws.rs.ext.ReaderInterceptorContext;
import java.io.IOException;
import java.util.List;

/**
 * Applies {@link BodyRules} to every request body the API reads, after JSON reading and before the resource
 * method: one check for every stored string instead of one per field, and a body that breaks it is answered 400
 * before anything is written.
 */
@Provider
public class CheckedBodies implements ReaderInterceptor {
    @Override
    public Object aroundReadFrom(ReaderInterceptorContext context) throws IOException {
        Object body = context.proceed();
        if (body != null && body.getClass().getName().startsWith("dev.trainyard.")) {
            List<FieldViolation> violations = BodyRules.check(body);
            if (!violations.isEmpty()) {
                throw new InvalidFieldsException(violations);
            }
        }
        return body;
    }
}
