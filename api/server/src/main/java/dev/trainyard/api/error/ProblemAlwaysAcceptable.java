package dev.trainyard.api.error;

import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.Locale;

/**
 * A client that accepts {@code application/problem+json} is ready for the API's errors, and the OpenAPI document
 * lists problem+json as the answer of every error: so such an Accept never makes an operation answer 406. Generated
 * clients send exactly {@code Accept: application/problem+json} for operations whose only success is a bodiless 204
 * ({@code deleteJobCheckpoints}); content negotiation would otherwise refuse them because the operation produces
 * JSON. The filter widens such an Accept with {@code *}{@code /*} at the lowest weight, so that any representation
 * the operation has stays acceptable while the client's own preferences still win.
 */
@ApplicationScoped
public class ProblemAlwaysAcceptable {
    static final String WIDENING = "*/*;q=0.001";

    /** After the header limits (which answer problem+json themselves), before the REST layer negotiates. */
    private static final int PRIORITY = 9_000;

    void register(@Observes Filters filters) {
        filters.register(this::widen, PRIORITY);
    }

    void widen(RoutingContext context) {
        List<String> accept = context.request().headers().getAll(HttpHeaders.ACCEPT);
        if (namesProblemJson(accept)) {
            context.request().headers().set(HttpHeaders.ACCEPT, widened(accept));
        }
        context.next();
    }

    static boolean namesProblemJson(List<String> acceptHeaders) {
        for (String header : acceptHeaders) {
            for (String range : header.split(",")) {
                int params = range.indexOf(';');
                String type = (params < 0 ? range : range.substring(0, params)).trim();
                if (type.toLowerCase(Locale.ROOT).equals(Problem.MEDIA_TYPE)) {
                    return true;
                }
            }
        }
        return false;
    }

    static String widened(List<String> acceptHeaders) {
        return String.join(", ", acceptHeaders) + ", " + WIDENING;
    }
}
