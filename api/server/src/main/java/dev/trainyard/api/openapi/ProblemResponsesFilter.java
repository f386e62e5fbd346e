package dev.trainyard.api.openapi;

import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;

/**
 * Adds the problem+json schema and the error answers to every API operation, so that generated clients
 * know the shape of every error without each resource repeating the same annotations.
 */
public class ProblemResponsesFilter implements OASFilter {
    private static final String PROBLEM_REF = "#/components/schemas/Problem";
    /** In a fixed order: the served document must be byte-stable to compare it with the committed contract. */
    private static final Map<String, String> ERRORS = new java.util.TreeMap<>(Map.of(
            "400", "Invalid request: see the problem's errors",
            "401", "Missing or invalid bearer token",
            "403", "The token may not do this",
            "404", "Not found, or not visible to this token",
            "409", "Conflicts with the current state",
            "503", "The database cannot be reached: retry after the seconds in Retry-After",
            // 405, 406, 414, 431, 500: answers of the HTTP layer that no operation chooses, each a problem document
            "default", "Any other error (such as 414, 431 or 500), as a problem document"));

    /** Errors of operations that take a body: it may be too large or not JSON. */
    private static final Map<String, String> BODY_ERRORS = new java.util.TreeMap<>(Map.of(
            "413", "The body is larger than the API accepts",
            "415", "The body is not of the media type the operation reads"));

    /** A reused Idempotency-Key with a different request. */
    private static final String IDEMPOTENCY_HEADER = "Idempotency-Key";

    /** Where ./run.sh starts the API; clients are told to override it with their own address. */
    static final String LOCAL_SERVER = "http://localhost:8080";

    @Override
    public Operation filterOperation(Operation operation) {
        APIResponses responses = operation.getResponses();
        if (responses == null) {
            responses = OASFactory.createAPIResponses();
            operation.setResponses(responses);
        }
        Map<String, String> errors = new java.util.TreeMap<>(ERRORS);
        if (operation.getRequestBody() != null) {
            errors.putAll(BODY_ERRORS);
        }
        if (operation.getParameters() != null
                && operation.getParameters().stream().anyMatch(p -> IDEMPOTENCY_HEADER.equals(p.getName()))) {
            errors.put("422", "This Idempotency-Key was used for a different request");
        }
        for (Map.Entry<String, String> e : errors.entrySet()) {
            APIResponse existing = responses.getAPIResponse(e.getKey());
            // the framework adds a bare "400 Bad Request" to operations with a body: give it the problem shape
            if (existing == null
                    || existing.getContent() == null
                    || existing.getContent().getMediaTypes() == null
                    || existing.getContent().getMediaTypes().isEmpty()) {
                if (e.getKey().equals("503")) {
                    responses.addAPIResponse(
                            e.getKey(), problemResponse(e.getValue()).addHeader("Retry-After", retryAfter()));
                } else {
                    responses.addAPIResponse(e.getKey(), problemResponse(e.getValue()));
                }
            }
        }
        return operation;
    }

    private static org.eclipse.microprofile.openapi.models.headers.Header retryAfter() {
        return OASFactory.createHeader()
                .description("Seconds to wait before retrying")
                .schema(OASFactory.createSchema()
                        .type(List.of(Schema.SchemaType.INTEGER))
                        .format("int32"));
    }

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        // one server, the address ./run.sh serves on, not the bind address (0.0.0.0 is no place to send requests)
        openAPI.setServers(List.of(OASFactory.createServer()
                .url(LOCAL_SERVER)
                .description("A Trainyard started on this machine with ./run.sh; clients set their own address")));
        if (openAPI.getComponents() == null) {
            openAPI.setComponents(OASFactory.createComponents());
        }
        openAPI.getComponents()
                .addSchema(
                        "FieldViolation",
                        OASFactory.createSchema()
                                .type(List.of(Schema.SchemaType.OBJECT))
                                .description("One offending field, named by its JSON path")
                                .addProperty("field", stringSchema())
                                .addProperty("message", stringSchema())
                                .required(List.of("field", "message")));
        openAPI.getComponents()
                .addSchema(
                        "Problem",
                        OASFactory.createSchema()
                                .type(List.of(Schema.SchemaType.OBJECT))
                                .description("RFC 9457 problem details")
                                .addProperty(
                                        "type", stringSchema().description("Stable identifier of the kind of error"))
                                .addProperty("title", stringSchema())
                                .addProperty(
                                        "status",
                                        OASFactory.createSchema()
                                                .type(List.of(Schema.SchemaType.INTEGER))
                                                .format("int32"))
                                .addProperty("detail", stringSchema())
                                .addProperty("instance", stringSchema())
                                .addProperty(
                                        "errors",
                                        OASFactory.createSchema()
                                                .type(List.of(Schema.SchemaType.ARRAY))
                                                .items(OASFactory.createSchema()
                                                        .ref("#/components/schemas/FieldViolation")))
                                .addProperty(
                                        "proposal",
                                        OASFactory.createSchema().ref("#/components/schemas/LayoutProposal"))
                                .required(List.of("type", "title", "status")));
    }

    private static Schema stringSchema() {
        return OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING));
    }

    private static APIResponse problemResponse(String description) {
        return OASFactory.createAPIResponse()
                .description(description)
                .content(OASFactory.createContent()
                        .addMediaType(
                                "application/problem+json",
                                OASFactory.createMediaType()
                                        .schema(OASFactory.createSchema().ref(PROBLEM_REF))));
    }
}
