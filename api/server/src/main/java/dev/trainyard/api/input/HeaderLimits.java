package dev.trainyard.api.input;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.error.Problem;
import dev.trainyard.api.error.ProblemType;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.Map;

/**
 * The API's limits on a request's line and headers, answered with a problem document (414, 431). The HTTP layer's
 * own limits (application.properties) are set well above these, because it refuses with a bare status and no body;
 * so every request a client could plausibly send reaches this check first.
 */
@ApplicationScoped
public class HeaderLimits {
    /** All header names and values together, in bytes as sent (name, ": ", value, CRLF). */
    public static final int MAX_HEADER_BYTES = 20 * 1024;

    /** The request line: method, URI and version. */
    public static final int MAX_REQUEST_LINE = 4096;

    /** Runs before every route, ahead of authentication and the REST layer. */
    private static final int PRIORITY = 10_000;

    private final ObjectMapper json;

    public HeaderLimits(ObjectMapper json) {
        this.json = json;
    }

    void register(@Observes Filters filters) {
        filters.register(this::check, PRIORITY);
    }

    void check(RoutingContext context) {
        var request = context.request();
        int line = request.method().name().length() + 1 + request.uri().length() + " HTTP/1.1".length();
        if (line > MAX_REQUEST_LINE) {
            refuse(
                    context,
                    ProblemType.URI_TOO_LONG,
                    "The request line is limited to " + MAX_REQUEST_LINE + " bytes; this one has " + line);
            return;
        }
        long headers = headerBytes(request.headers());
        if (headers > MAX_HEADER_BYTES) {
            refuse(
                    context,
                    ProblemType.HEADERS_TOO_LARGE,
                    "Headers are limited to " + MAX_HEADER_BYTES + " bytes in all; these have " + headers);
            return;
        }
        context.next();
    }

    static long headerBytes(MultiMap headers) {
        long bytes = 0;
        for (Map.Entry<String, String> header : headers) {
            bytes += header.getKey().length() + 2 + header.getValue().length() + 2;
        }
        return bytes;
    }

    private void refuse(RoutingContext context, ProblemType type, String detail) {
        String path = context.request().path();
        Problem problem = Problem.of(type, detail, path != null && path.length() <= 200 ? path : null, List.of());
        String body;
        try {
            body = json.writeValueAsString(problem);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        context.response()
                .setStatusCode(type.status())
                .putHeader("Content-Type", Problem.MEDIA_TYPE)
                .putHeader("Connection", "close")
                .end(body);
    }
}
