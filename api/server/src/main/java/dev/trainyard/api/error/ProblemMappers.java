package dev.trainyard.api.error;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.trainyard.api.db.DatabaseOutage;
import dev.trainyard.spec.FieldViolation;
import dev.trainyard.spec.InvalidFieldsException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** The one error mapping layer: every failure leaves the API as application/problem+json. */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response mapApi(ApiException e, UriInfo uri) {
        if (e.proposal() != null) {
            Problem problem = Problem.of(e.type(), e.getMessage(), path(uri), e.violations());
            return Response.status(e.type().status())
                    .type(Problem.MEDIA_TYPE)
                    .entity(new Problem(
                            problem.type(),
                            problem.title(),
                            problem.status(),
                            problem.detail(),
                            problem.instance(),
                            problem.errors(),
                            e.proposal()))
                    .build();
        }
        return answer(e.type(), e.getMessage(), uri, e.violations());
    }

    /** Field violations found by the job spec's validator or another request's {@code Violations}. */
    @ServerExceptionMapper
    public Response mapInvalidFields(InvalidFieldsException e, UriInfo uri) {
        return answer(ProblemType.VALIDATION, e.getMessage(), uri, e.violations());
    }

    @ServerExceptionMapper
    public Response mapJson(JsonProcessingException e, UriInfo uri) {
        if (e.getCause() instanceof BodyTooLargeException tooLarge) {
            return mapTooLarge(tooLarge, uri);
        }
        if (e instanceof JsonParseException) {
            return answer(
                    ProblemType.MALFORMED_BODY,
                    "The body is not valid JSON: " + firstLine(e.getOriginalMessage()),
                    uri,
                    List.of());
        }
        if (e instanceof JsonMappingException m) {
            String field = pathOf(m);
            String message = describe(m);
            List<FieldViolation> errors = List.of(new FieldViolation(field.isEmpty() ? "$" : field, message));
            return answer(ProblemType.VALIDATION, (field.isEmpty() ? "body" : field) + ": " + message, uri, errors);
        }
        return answer(ProblemType.MALFORMED_BODY, "The body could not be read as JSON", uri, List.of());
    }

    /** Declared for the most specific types so that the framework's own mappers of them never answer. */
    @ServerExceptionMapper
    public Response mapMismatchedInput(MismatchedInputException e, UriInfo uri) {
        return mapJson(e, uri);
    }

    @ServerExceptionMapper
    public Response mapParse(JsonParseException e, UriInfo uri) {
        return mapJson(e, uri);
    }

    @ServerExceptionMapper
    public Response mapMapping(JsonMappingException e, UriInfo uri) {
        return mapJson(e, uri);
    }

    @ServerExceptionMapper
    public Response mapWebApplication(WebApplicationException e, UriInfo uri) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return mapJson(json, uri);
        }
        int status = e.getResponse().getStatus();
        if (status == 404 && e.getCause() instanceof IllegalArgumentException) {
            // JAX-RS answers 404 when a query parameter does not convert ("limit=abc"); that is a bad request
            return answer(
                    ProblemType.BAD_PARAMETER,
                    "A parameter has the wrong type: " + firstLine(e.getCause().getMessage()),
                    uri,
                    List.of());
        }
        if (e.getCause() instanceof BodyTooLargeException tooLarge) {
            return answer(ProblemType.PAYLOAD_TOO_LARGE, tooLarge.getMessage(), uri, List.of());
        }
        if (status < 400) {
            return e.getResponse();
        }
        ProblemType type = ProblemType.forStatus(status);
        if (status >= 500 && DatabaseOutage.isCause(e)) {
            return unavailable(e, uri);
        }
        if (status >= 500) {
            LOG.error("Request failed", e);
            return answer(ProblemType.INTERNAL, "The server could not complete the request", uri, List.of());
        }
        // The framework's own 4xx (unknown path, wrong method, wrong media type) keep their status.
        Problem problem = new Problem(type.uri(), type.title(), status, safeDetail(e, status), path(uri), null);
        return Response.status(status).type(Problem.MEDIA_TYPE).entity(problem).build();
    }

    @ServerExceptionMapper
    public Response mapTooLarge(BodyTooLargeException e, UriInfo uri) {
        return answer(ProblemType.PAYLOAD_TOO_LARGE, e.getMessage(), uri, List.of());
    }

    @ServerExceptionMapper
    public Response mapUnexpected(Throwable e, UriInfo uri) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BodyTooLargeException tooLarge) {
                return mapTooLarge(tooLarge, uri);
            }
        }
        Throwable cause = e.getCause();
        if (cause instanceof JsonProcessingException json) {
            return mapJson(json, uri);
        }
        if (DatabaseOutage.isCause(e)) {
            return unavailable(e, uri);
        }
        LOG.error("Unexpected error", e);
        return answer(ProblemType.INTERNAL, "The server could not complete the request", uri, List.of());
    }

    /** The database cannot be reached: the same request will work once it is back, so say when to retry. */
    private static Response unavailable(Throwable e, UriInfo uri) {
        LOG.warnf("Database unreachable, answering 503: %s", rootMessage(e));
        Problem problem = Problem.of(
                ProblemType.UNAVAILABLE,
                "The database cannot be reached; retry in " + DatabaseOutage.RETRY_AFTER_SECONDS + " seconds",
                path(uri),
                null);
        return Response.status(503)
                .type(Problem.MEDIA_TYPE)
                .header("Retry-After", DatabaseOutage.RETRY_AFTER_SECONDS)
                .entity(problem)
                .build();
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + firstLine(root.getMessage());
    }

    static Response answer(ProblemType type, String detail, UriInfo uri, List<FieldViolation> errors) {
        Problem problem = Problem.of(type, detail, path(uri), errors.isEmpty() ? null : errors);
        Response.ResponseBuilder response =
                Response.status(type.status()).type(Problem.MEDIA_TYPE).entity(problem);
        if (type == ProblemType.UNAUTHENTICATED) {
            response.header("WWW-Authenticate", "Bearer realm=\"trainyard\"");
        }
        return response.build();
    }

    private static String path(UriInfo uri) {
        return uri == null ? null : uri.getPath();
    }

    private static String safeDetail(WebApplicationException e, int status) {
        return switch (status) {
            case 404 -> "No such resource";
            case 405 -> "This method is not allowed on this resource";
            case 406 -> "No acceptable representation";
            case 413 -> "The request body is too large";
            case 415 -> "Send the body as application/json";
            default -> firstLine(e.getMessage());
        };
    }

    /** The JSON path of the failing field in dotted form, with [i] for array items. */
    static String pathOf(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (out.length() > 0) {
                    out.append('.');
                }
                out.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    private static String describe(JsonMappingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            String known = u.getKnownPropertyIds() == null
                    ? ""
                    : u.getKnownPropertyIds().stream()
                            .map(Object::toString)
                            .sorted()
                            .collect(Collectors.joining(", "));
            return "unknown field '" + u.getPropertyName() + "'" + (known.isEmpty() ? "" : "; known fields: " + known);
        }
        if (e instanceof InvalidTypeIdException t) {
            return t.getTypeId() == null ? "'type' is required" : "unknown type '" + t.getTypeId() + "'";
        }
        if (e instanceof InvalidFormatException f) {
            return "'" + f.getValue() + "' is not a valid " + simpleType(f.getTargetType());
        }
        if (e instanceof MismatchedInputException m) {
            return "expected " + simpleType(m.getTargetType());
        }
        return firstLine(e.getOriginalMessage());
    }

    private static String simpleType(Class<?> type) {
        if (type == null) {
            return "value";
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "integer";
        }
        if (type == double.class || type == Double.class || type == java.math.BigDecimal.class) {
            return "number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "boolean (true or false)";
        }
        if (type == String.class) {
            return "string";
        }
        if (type.isEnum()) {
            return "value, one of "
                    + java.util.Arrays.stream(type.getEnumConstants())
                            .map(c -> c.toString().toLowerCase(java.util.Locale.ROOT))
                            .collect(Collectors.joining(", "));
        }
        if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "array";
        }
        return "object";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 300 ? line.substring(0, 300) : line;
    }
}
