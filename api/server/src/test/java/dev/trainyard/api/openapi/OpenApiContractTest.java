package dev.trainyard.api.openapi;

import static dev.trainyard.api.testing.ApiRequests.anonymous;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * The served OpenAPI document is the contract clients are generated from: it must equal the committed copy
 * (so that every change to it is reviewed) and be complete enough to generate a usable client.
 */
@QuarkusTest
class OpenApiContractTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROBLEM_REF = "#/components/schemas/Problem";

    private static Path committedCopy() {
        String configured = System.getProperty("contract.committed-openapi");
        return configured != null ? Path.of(configured) : Path.of("../openapi/openapi.yaml");
    }

    private static JsonNode served() throws IOException {
        return YAML.readTree(
                anonymous().get("/q/openapi").then().statusCode(200).extract().asString());
    }

    @Test
    void servedDocumentEqualsTheCommittedCopy() throws IOException {
        Path committed = committedCopy().toAbsolutePath().normalize();
        String howToUpdate = "The build writes the served document to api/server/target/openapi/openapi.yaml; review it"
                + " and copy it over the committed one: cp api/server/target/openapi/openapi.yaml api/openapi/openapi.yaml";
        assertThat(committed)
                .as("The committed OpenAPI document is missing. " + howToUpdate)
                .exists();

        JsonNode expected = YAML.readTree(Files.readString(committed));
        JsonNode actual = served();

        List<String> differences = new ArrayList<>();
        diff("", expected, actual, differences);
        assertThat(differences)
                .as("The served OpenAPI document differs from the committed copy " + committed
                        + " (committed -> served, first 30 differences). If the API change is intended: " + howToUpdate)
                .isEmpty();
    }

    @Test
    void theOneServerIsAnAddressClientsCanCall() throws IOException {
        JsonNode servers = served().path("servers");

        assertThat(servers).hasSize(1);
        assertThat(servers.get(0).path("url").asText()).isEqualTo("http://localhost:8080");
    }

    @Test
    void everyAnswerThatCreatesDocumentsItsCreatedStatus() throws IOException {
        JsonNode doc = served();
        for (String path : List.of("/api/v1/pools", "/api/v1/projects", "/api/v1/tokens", "/api/v1/jobs")) {
            assertThat(doc.path("paths")
                            .path(path)
                            .path("post")
                            .path("responses")
                            .has("201"))
                    .as("POST " + path + " documents 201")
                    .isTrue();
        }
    }

    @Test
    void everyOperationDocumentsTheAnswersOfAnOutageAndOfAnyOtherError() throws IOException {
        List<String> missing = new ArrayList<>();
        forEachOperation(served(), (where, op) -> {
            for (String status : List.of("503", "default")) {
                if (!op.path("responses").has(status)) {
                    missing.add(where + " " + status);
                }
            }
        });

        assertThat(missing).isEmpty();
    }

    @Test
    void servedJsonAndYamlAreTheSameDocument() throws IOException {
        JsonNode json = JSON.readTree(anonymous()
                .get("/q/openapi?format=json")
                .then()
                .statusCode(200)
                .extract()
                .asString());

        assertThat(json).isEqualTo(served());
    }

    @Test
    void everyOperationHasAnOperationId() throws IOException {
        List<String> missing = new ArrayList<>();
        forEachOperation(served(), (where, op) -> {
            if (op.path("operationId").asText("").isBlank()) {
                missing.add(where);
            }
        });

        assertThat(missing).as("operations without operationId").isEmpty();
    }

    @Test
    void everyRequestAndSuccessBodyHasASchema() throws IOException {
        List<String> empty = new ArrayList<>();
        forEachOperation(served(), (where, op) -> {
            op.path("requestBody").path("content").fields().forEachRemaining(media -> {
                if (isEmptySchema(media.getValue().path("schema"))) {
                    empty.add(where + " request " + media.getKey());
                }
            });
            op.path("responses").fields().forEachRemaining(response -> {
                if (response.getKey().startsWith("2")) {
                    response.getValue().path("content").fields().forEachRemaining(media -> {
                        if (isEmptySchema(media.getValue().path("schema"))) {
                            empty.add(where + " " + response.getKey() + " " + media.getKey());
                        }
                    });
                }
            });
        });

        assertThat(empty).as("bodies whose schema says nothing").isEmpty();
    }

    @Test
    void everySuccessfulOperationDocumentsABody() throws IOException {
        List<String> bare = new ArrayList<>();
        forEachOperation(
                served(),
                (where, op) -> op.path("responses").fields().forEachRemaining(response -> {
                    if (response.getKey().startsWith("2")
                            && !response.getKey().equals("204")
                            && response.getValue().path("content").isEmpty()) {
                        bare.add(where + " " + response.getKey());
                    }
                }));

        assertThat(bare).as("2xx answers documented without content").isEmpty();
    }

    @Test
    void everyOperationDocumentsItsErrorsAsProblemDocuments() throws IOException {
        JsonNode doc = served();
        List<String> wrong = errorAnswersThatAreNotProblems(doc, status -> true);

        assertThat(wrong)
                .as("error answers that are not application/problem+json Problem")
                .isEmpty();
        assertThat(doc.at("/components/schemas/Problem/properties/type").isMissingNode())
                .isFalse();
        assertThat(doc.at("/components/schemas/Problem/required").toString()).contains("\"type\"");
    }

    private static List<String> errorAnswersThatAreNotProblems(
            JsonNode doc, java.util.function.Predicate<String> statuses) {
        List<String> wrong = new ArrayList<>();
        forEachOperation(doc, (where, op) -> {
            int errors = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = op.path("responses").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> response = it.next();
                if (response.getKey().startsWith("4") || response.getKey().startsWith("5")) {
                    errors++;
                    JsonNode schema = response.getValue()
                            .path("content")
                            .path("application/problem+json")
                            .path("schema");
                    if (statuses.test(response.getKey())
                            && !PROBLEM_REF.equals(schema.path("$ref").asText())) {
                        wrong.add(where + " " + response.getKey());
                    }
                }
            }
            if (errors == 0) {
                wrong.add(where + " documents no error answer");
            }
        });
        return wrong;
    }

    @Test
    void apiOperationsRequireTheDeclaredBearerScheme() throws IOException {
        JsonNode doc = served();
        List<String> bearerSchemes = new ArrayList<>();
        doc.at("/components/securitySchemes").fields().forEachRemaining(s -> {
            if ("http".equals(s.getValue().path("type").asText())
                    && "bearer".equalsIgnoreCase(s.getValue().path("scheme").asText())) {
                bearerSchemes.add(s.getKey());
            }
        });
        assertThat(bearerSchemes).as("declared http bearer security schemes").isNotEmpty();

        List<String> open = new ArrayList<>();
        forEachOperation(doc, (where, op) -> {
            if (!where.contains(" /api/")) {
                return;
            }
            JsonNode security = op.has("security") ? op.get("security") : doc.path("security");
            boolean bearer = false;
            for (JsonNode requirement : security) {
                for (String scheme : bearerSchemes) {
                    bearer |= requirement.has(scheme);
                }
            }
            if (!bearer) {
                open.add(where);
            }
        });

        assertThat(open)
                .as("API operations that do not require the bearer scheme")
                .isEmpty();
    }

    private static boolean isEmptySchema(JsonNode schema) {
        return schema.isMissingNode()
                || !(schema.has("$ref")
                        || schema.has("type")
                        || schema.has("properties")
                        || schema.has("oneOf")
                        || schema.has("allOf")
                        || schema.has("anyOf"));
    }

    private static void forEachOperation(JsonNode doc, BiConsumer<String, JsonNode> action) {
        doc.path("paths")
                .fields()
                .forEachRemaining(path -> path.getValue().fields().forEachRemaining(op -> {
                    if (List.of("get", "put", "post", "delete", "patch", "head", "options")
                            .contains(op.getKey())) {
                        action.accept(op.getKey().toUpperCase() + " " + path.getKey(), op.getValue());
                    }
                }));
    }

    /** Lists where two trees differ, as JSON pointers, up to 30 entries. */
    private static void diff(String at, JsonNode expected, JsonNode actual, List<String> out) {
        if (out.size() >= 30 || expected.equals(actual)) {
            return;
        }
        if (expected.isObject() && actual.isObject()) {
            expected.fieldNames().forEachRemaining(name -> {
                if (!actual.has(name)) {
                    out.add(at + "/" + name + ": removed");
                } else {
                    diff(at + "/" + name, expected.get(name), actual.get(name), out);
                }
            });
            actual.fieldNames().forEachRemaining(name -> {
                if (!expected.has(name) && out.size() < 30) {
                    out.add(at + "/" + name + ": added");
                }
            });
            return;
        }
        if (expected.isArray() && actual.isArray() && expected.size() == actual.size()) {
            for (int i = 0; i < expected.size(); i++) {
                diff(at + "/" + i, expected.get(i), actual.get(i), out);
            }
            return;
        }
        out.add(at + ": " + abbreviate(expected) + " -> " + abbreviate(actual));
    }

    private static String abbreviate(JsonNode node) {
        String text = node.toString();
        return text.length() > 120 ? text.substring(0, 117) + "..." : text;
    }
}
