package dev.trainyard.api.testing;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.ValidationReport;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.restassured.filter.Filter;
import io.restassured.filter.FilterContext;
import io.restassured.http.Header;
import io.restassured.response.Response;
import io.restassured.specification.FilterableRequestSpecification;
import io.restassured.specification.FilterableResponseSpecification;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Checks every request and answer of the API's tests against the committed OpenAPI document, so that the document
 * clients are generated from describes what the server really does. Installed on every request built by
 * {@link ApiRequests}; a violation fails the test that caused it.
 *
 * <ul>
 *   <li>Every answer of a documented operation must match the document: a listed status, a listed media type, and a
 *       body of the listed schema (JSON bodies; binary downloads and event streams are checked for status and type).
 *   <li>A request is checked when the server accepted it (2xx): then the document must accept it too. Requests the
 *       server refuses are the tests' deliberate mistakes; their answers are still checked.
 *   <li>Paths the document does not describe ({@code /q/...}, the dashboard's files, unknown paths) are skipped.
 * </ul>
 */
public final class ContractValidation implements Filter {
    public static final ContractValidation FILTER = new ContractValidation();

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where the committed document lies, relative to api/server (surefire passes the absolute path). */
    private static Path document() {
        String configured = System.getProperty("contract.committed-openapi");
        return configured != null ? Path.of(configured) : Path.of("../openapi/openapi.yaml");
    }

    /** Reports that mean "the document does not describe this path or method": not an answer to check. */
    private static final Set<String> UNDOCUMENTED =
            Set.of("validation.request.path.missing", "validation.request.operation.notAllowed");

    private static volatile OpenApiInteractionValidator validator;

    private ContractValidation() {}

    private static OpenApiInteractionValidator validator() {
        if (validator == null) {
            synchronized (ContractValidation.class) {
                if (validator == null) {
                    validator = OpenApiInteractionValidator.createForSpecificationUrl(document()
                                    .toAbsolutePath()
                                    .normalize()
                                    .toUri()
                                    .toString())
                            .build();
                }
            }
        }
        return validator;
    }

    @Override
    public Response filter(
            FilterableRequestSpecification request, FilterableResponseSpecification responseSpec, FilterContext ctx) {
        Response response = ctx.next(request, responseSpec);
        List<String> violations = violations(request, response);
        if (!violations.isEmpty()) {
            throw new AssertionError("The exchange " + request.getMethod() + " " + request.getURI() + " -> "
                    + response.statusCode() + " breaks the committed OpenAPI document (api/openapi/openapi.yaml):\n  "
                    + String.join("\n  ", violations));
        }
        return response;
    }

    static List<String> violations(FilterableRequestSpecification request, Response response) {
        return violations(toRequest(request), toResponse(response));
    }

    /** What breaks the document in one exchange, as "key: message" lines; empty when it keeps to it. */
    public static List<String> violations(Request request, com.atlassian.oai.validator.model.Response response) {
        ValidationReport report = validator().validate(request, response);
        if (report.getMessages().stream().anyMatch(m -> UNDOCUMENTED.contains(m.getKey()))) {
            return List.of();
        }
        boolean accepted = response.getStatus() >= 200 && response.getStatus() < 300;
        return report.getMessages().stream()
                .filter(m -> m.getLevel() == ValidationReport.Level.ERROR)
                .filter(m -> accepted || !m.getKey().startsWith("validation.request."))
                .filter(m -> !sameWordInOtherCase(m))
                .map(m -> m.getKey() + ": " + m.getMessage())
                .collect(Collectors.toList());
    }

    private static final Pattern ENUM_MISS =
            Pattern.compile("Instance value \\(\"(.*)\"\\) not found in enum \\(possible values: \\[(.*)]\\)");

    /**
     * The server reads the spec's and the token's words in any case ("BF16", "member"), a leniency the document
     * cannot state (README: "Leniencies"); it answers with the document's spelling.
     */
    private static boolean sameWordInOtherCase(ValidationReport.Message m) {
        if (!m.getKey().equals("validation.request.body.schema.enum")) {
            return false;
        }
        Matcher miss = ENUM_MISS.matcher(m.getMessage());
        if (!miss.find()) {
            return false;
        }
        for (String allowed : miss.group(2).split(",")) {
            if (allowed.replace("\"", "").trim().equalsIgnoreCase(miss.group(1))) {
                return true;
            }
        }
        return false;
    }

    private static Request toRequest(FilterableRequestSpecification spec) {
        URI uri = URI.create(spec.getURI());
        SimpleRequest.Builder builder = new SimpleRequest.Builder(spec.getMethod(), uri.getRawPath());
        if (uri.getRawQuery() != null) {
            for (String pair : uri.getRawQuery().split("&")) {
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq));
                builder.withQueryParam(name, eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
        }
        for (Header h : spec.getHeaders()) {
            builder.withHeader(h.getName(), h.getValue());
        }
        Object body = spec.getBody();
        if (body instanceof String s) {
            builder.withBody(withoutNullMembers(s));
        } else if (body instanceof byte[] bytes) {
            builder.withBody(bytes);
        }
        return builder.build();
    }

    /**
     * The server reads a JSON null member of a request as "not given" (README: "Leniencies"), which the document
     * cannot say without turning every optional field of the generated clients into a nullable type: such members
     * are checked as left out. Bodies that are not JSON objects are checked as sent.
     */
    private static String withoutNullMembers(String body) {
        try {
            JsonNode tree = JSON.readTree(body);
            stripNulls(tree);
            return tree == null ? body : JSON.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            return body;
        }
    }

    private static void stripNulls(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.properties().removeIf(field -> field.getValue().isNull());
        }
        if (node != null) {
            node.forEach(ContractValidation::stripNulls);
        }
    }

    private static com.atlassian.oai.validator.model.Response toResponse(Response response) {
        SimpleResponse.Builder builder = SimpleResponse.Builder.status(response.statusCode());
        for (Header h : response.getHeaders()) {
            builder.withHeader(h.getName(), h.getValue());
        }
        String type = response.getContentType() == null
                ? ""
                : response.getContentType().toLowerCase(Locale.ROOT);
        // JSON bodies are checked against their schema; downloads and event streams only for being there
        if (type.contains("json")) {
            builder.withBody(response.asString());
        } else {
            builder.withBody(response.asByteArray());
        }
        return builder.build();
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
