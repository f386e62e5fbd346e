package dev.trainyard.api.openapi;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.trainyard.api.testing.DatabaseDigest;
import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Schema-driven fuzzing of every JSON request body the committed OpenAPI document declares: each field the schema
 * names (nested objects and array items included) is replaced in turn by a wrong type, null, "", a negative, a huge
 * number, a NUL, a very long string and unusual Unicode. Every answer must be below 500, every refusal a problem
 * document, and a refused request must leave every table as it was.
 */
@QuarkusTest
class RequestBodyFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int MAX_DEPTH = 5;

    /** The values each field is replaced by, named for the report. */
    private static final Map<String, JsonNode> MUTATIONS = mutations();

    /** Tried on string fields only: for any other field the empty string and the NUL already are a wrong type. */
    private static final List<String> TEXT_ONLY = List.of("very long", "unicode", "unpaired surrogate");

    /** A field the schema declares, by its path in the body, and its declared type ("" when it has none). */
    record Field(String path, String type) {}

    private static Map<String, JsonNode> mutations() {
        Map<String, JsonNode> m = new LinkedHashMap<>();
        m.put("null", NODES.nullNode());
        m.put("empty string", NODES.textNode(""));
        m.put("negative", NODES.numberNode(-1));
        m.put("huge", NODES.numberNode(new BigInteger("1" + "0".repeat(40))));
        m.put("NUL", NODES.textNode("a\u0000b"));
        m.put("very long", NODES.textNode("x".repeat(100_000)));
        m.put("unicode", NODES.textNode("\u540d\u524d-\uD83D\uDE82-\u202E-\u0301"));
        m.put("unpaired surrogate", NODES.textNode("a\uD800b"));
        m.put("wrong type: boolean", NODES.booleanNode(true));
        return m;
    }

    /** Where and as whom an operation is sent, with a valid body to mutate; fresh fixtures for each call. */
    record Target(String method, Function<Fixture, String> path, boolean runner, Function<Fixture, String> body) {
        /** Whether an accepted call uses its fixture up (an ended attempt takes no second end). */
        boolean consumesFixture() {
            return path.apply(Fixture.NONE).endsWith(":end");
        }
    }

    /** A project, a pool, a runner token and a running attempt, made for a case and used by its target. */
    record Fixture(String project, String pool, Fixtures.Token runner, long attempt, String lease, long runnerId) {
        static final Fixture NONE = new Fixture("", "", null, 0, "", 0);

        static Fixture make() {
            String project = Fixtures.project();
            String pool = Fixtures.pool();
            Fixtures.Token runner = Fixtures.runner();
            long runnerId = Db.insertRunner(pool, 1, "ACTIVE", runner.id());
            long attempt = Db.makeRunning(Fixtures.submit(Spec.gpt(project, pool)), runnerId);
            String lease = Db.queryString("select lease_token::text from attempts where id = ?", attempt);
            return new Fixture(project, pool, runner, attempt, lease, runnerId);
        }
    }

    private static final Map<String, Target> TARGETS = targets();

    private static Map<String, Target> targets() {
        Map<String, Target> t = new LinkedHashMap<>();
        String runnerApi = "/api/v1/runner/attempts/";
        t.put(
                "submitJob",
                new Target(
                        "POST",
                        f -> "/api/v1/jobs",
                        false,
                        f -> Spec.gpt(f.project(), f.pool()).json()));
        t.put(
                "planJob",
                new Target(
                        "POST",
                        f -> "/api/v1/jobs:plan",
                        false,
                        f -> Spec.gpt(f.project(), f.pool()).json()));
        t.put(
                "createPool",
                new Target(
                        "POST",
                        f -> "/api/v1/pools",
                        false,
                        f -> json(Map.of("name", Names.unique("fuzz"), "gpuType", "cpu", "pricePerGpuHour", 1))));
        t.put(
                "updatePool",
                new Target("PATCH", f -> "/api/v1/pools/" + f.pool(), false, f -> json(Map.of("pricePerGpuHour", 2))));
        t.put(
                "createProject",
                new Target(
                        "POST",
                        f -> "/api/v1/projects",
                        false,
                        f -> json(Map.of("name", Names.unique("fuzz"), "budgetUsd", 10, "share", 1))));
        t.put(
                "updateProject",
                new Target(
                        "PATCH",
                        f -> "/api/v1/projects/" + f.project(),
                        false,
                        f -> json(Map.of("budgetUsd", 5, "share", 2))));
        t.put(
                "createToken",
                new Target(
                        "POST",
                        f -> "/api/v1/tokens",
                        false,
                        f -> json(Map.of("name", Names.unique("fuzz"), "role", "MEMBER", "project", f.project()))));
        t.put(
                "registerRunner",
                new Target(
                        "POST",
                        f -> "/api/v1/runner/register",
                        true,
                        f -> json(Map.of(
                                "name",
                                // a runner token registers only its own runner (again)
                                Db.queryString("select name from runners where id = ?", f.runnerId()),
                                "host",
                                "node-1",
                                "pool",
                                f.pool(),
                                "devices",
                                List.of(Map.of("index", 0, "kind", "cpu", "name", "cpu:0", "memoryBytes", 1 << 30))))));
        t.put(
                "heartbeat",
                new Target(
                        "POST",
                        f -> "/api/v1/runner/heartbeat",
                        true,
                        f -> json(Map.of("runnerId", f.runnerId(), "waitMs", 0))));
        t.put(
                "startAttempt",
                new Target(
                        "POST",
                        f -> runnerApi + f.attempt() + ":start",
                        true,
                        f -> json(Map.of("leaseToken", f.lease()))));
        t.put(
                "publishRendezvous",
                new Target(
                        "POST",
                        f -> runnerApi + f.attempt() + ":rendezvous",
                        true,
                        f -> json(Map.of("leaseToken", f.lease(), "host", "10.0.0.7", "port", 29500))));
        t.put(
                "reportMetrics",
                new Target(
                        "POST",
                        f -> runnerApi + f.attempt() + "/metrics",
                        true,
                        f -> json(Map.of(
                                "leaseToken",
                                f.lease(),
                                "points",
                                List.of(Map.of("step", 1, "name", "train/loss", "value", 2.5))))));
        t.put(
                "reportLogs",
                new Target(
                        "POST",
                        f -> runnerApi + f.attempt() + "/logs",
                        true,
                        f -> json(Map.of(
                                "leaseToken",
                                f.lease(),
                                "lines",
                                List.of(Map.of("at", java.time.Instant.now().toString(), "line", "step 1"))))));
        t.put(
                "endAttempt",
                new Target(
                        "POST",
                        f -> runnerApi + f.attempt() + ":end",
                        true,
                        f -> json(Map.of(
                                "leaseToken",
                                f.lease(),
                                "outcome",
                                "FAILED",
                                "message",
                                "out of memory",
                                "finalStep",
                                1))));
        return t;
    }

    static Stream<String> operations() throws IOException {
        return jsonOperations().keySet().stream();
    }

    @Test
    void everyOperationWithAJsonBodyHasATarget() throws IOException {
        assertThat(TARGETS.keySet())
                .as("each operation of the document with a JSON body needs a target here, with a valid body")
                .containsExactlyInAnyOrderElementsOf(jsonOperations().keySet());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operations")
    void everyMutationOfEveryFieldIsRefusedWithAProblemOrAcceptedAndNeverAFiveHundred(String operationId)
            throws IOException {
        JsonNode document = document();
        Target target = TARGETS.get(operationId);
        JsonNode schema = jsonOperations().get(operationId);
        Fixture fixture = Fixture.make();
        ObjectNode sample = (ObjectNode) JSON.readTree(target.body().apply(fixture));
        List<Field> fields = fields(document, schema, sample, "", 0);
        assertThat(fields).as("fields of " + operationId).isNotEmpty();
        // the unmutated sample must pass, or every mutation would only repeat the sample's own refusal
        Response valid = send(target, fixture, sample);
        assertThat(valid.statusCode())
                .as(operationId + ": the valid sample was refused: " + abbreviate(valid.asString()))
                .isLessThan(400);
        fixture = Fixture.make();

        List<String> failures = new ArrayList<>();
        int cases = 0;
        long started = System.currentTimeMillis();
        String before = DatabaseDigest.now();
        for (Field field : fields) {
            for (Map.Entry<String, JsonNode> mutation : MUTATIONS.entrySet()) {
                if (!field.type().equals("string") && TEXT_ONLY.contains(mutation.getKey())) {
                    continue;
                }
                ObjectNode body = (ObjectNode) JSON.readTree(target.body().apply(fixture));
                set(body, field.path(), mutation.getValue());
                Response answer = send(target, fixture, body);
                cases++;
                String after = answer.statusCode() < 400 || answer.statusCode() >= 500 ? null : DatabaseDigest.now();
                String failure = judge(answer, before, after);
                if (failure != null) {
                    failures.add(field.path() + " = " + mutation.getKey() + ": " + failure);
                }
                if (answer.statusCode() < 400 && target.consumesFixture()) {
                    fixture = Fixture.make();
                }
                // a refused request left the tables as they were, so its digest is the next one's "before"
                before = after != null ? after : DatabaseDigest.now();
            }
        }
        System.out.printf(
                "fuzz %s: %d cases over %d fields in %d ms%n",
                operationId, cases, fields.size(), System.currentTimeMillis() - started);
        assertThat(failures)
                .as(operationId + ": " + cases + " cases over " + fields.size() + " fields "
                        + fields.stream().map(Field::path).toList())
                .isEmpty();
    }

    /** The one body that is not JSON, a checkpoint upload: each wrong form is a problem and stores nothing. */
    @Test
    void everyWrongCheckpointUploadIsRefusedWithAProblemAndStoresNothing() throws IOException {
        assertThat(binaryOperations())
                .as("operations with a binary body")
                .containsExactlyInAnyOrder("uploadCheckpoint", "uploadExportFile");
        Fixture f = Fixture.make();
        byte[] bytes = "not really a checkpoint".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String sha = sha256(bytes);
        String empty = sha256(new byte[0]);
        record Upload(String name, long step, String sha, byte[] body, String query) {}
        List<Upload> uploads = List.of(
                new Upload("empty body", 1, empty, new byte[0], ""),
                new Upload("checksum of other bytes", 1, empty, bytes, ""),
                new Upload("checksum not hex", 1, "z".repeat(64), bytes, ""),
                new Upload("no checksum", 1, null, bytes, ""),
                new Upload("step beyond the job", 1_000_000_000_000L, sha, bytes, ""),
                new Upload("evalLoss not a number", 1, sha, bytes, "?evalLoss=NaN"),
                new Upload("evalLoss infinite", 1, sha, bytes, "?evalLoss=Infinity"),
                new Upload("evalLoss a word", 1, sha, bytes, "?evalLoss=low"));
        List<String> failures = new ArrayList<>();
        for (Upload u : uploads) {
            String before = DatabaseDigest.now();
            var request = as(f.runner().secret())
                    .contentType("application/octet-stream")
                    .header("X-Lease-Token", f.lease())
                    .body(u.body());
            if (u.sha() != null) {
                request.header("X-Checksum-Sha256", u.sha());
            }
            Response answer =
                    request.put("/api/v1/runner/attempts/" + f.attempt() + "/checkpoints/" + u.step() + u.query());
            String failure = answer.statusCode() < 400
                    ? "accepted with " + answer.statusCode()
                    : judge(answer, before, DatabaseDigest.now());
            if (failure != null) {
                failures.add(u.name() + ": " + failure);
            }
        }
        assertThat(failures).isEmpty();
    }

    /** The other binary body, a file of the final export: each wrong form is a problem and stores nothing. */
    @Test
    void everyWrongExportUploadIsRefusedWithAProblemAndStoresNothing() {
        Fixture f = Fixture.make();
        byte[] bytes = "not really weights".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String sha = sha256(bytes);
        String empty = sha256(new byte[0]);
        record Upload(String name, String file, String sha, byte[] body) {}
        List<Upload> uploads = List.of(
                new Upload("empty body", "model.safetensors", empty, new byte[0]),
                new Upload("checksum of other bytes", "model.safetensors", empty, bytes),
                new Upload("checksum not hex", "config.json", "z".repeat(64), bytes),
                new Upload("no checksum", "config.json", null, bytes),
                new Upload("not an export file", "weights.bin", sha, bytes),
                new Upload("a dot-dot name", "..", sha, bytes),
                new Upload("an encoded path", "..%2Fjob-1%2Fx", sha, bytes),
                new Upload("a NUL", "a%00b", sha, bytes));
        List<String> failures = new ArrayList<>();
        for (Upload u : uploads) {
            String before = DatabaseDigest.now();
            var request = as(f.runner().secret())
                    .contentType("application/octet-stream")
                    .header("X-Lease-Token", f.lease())
                    .body(u.body());
            if (u.sha() != null) {
                request.header("X-Checksum-Sha256", u.sha());
            }
            Response answer = request.put("/api/v1/runner/attempts/" + f.attempt() + "/export/" + u.file());
            String failure = answer.statusCode() < 400
                    ? "accepted with " + answer.statusCode()
                    : judge(answer, before, DatabaseDigest.now());
            if (failure != null) {
                failures.add(u.name() + ": " + failure);
            }
        }
        assertThat(failures).isEmpty();
    }

    /** Null when the answer is acceptable; otherwise what is wrong with it. */
    private static String judge(Response answer, String before, String after) {
        int status = answer.statusCode();
        if (status >= 500) {
            return "answered " + status + ": " + abbreviate(answer.asString());
        }
        if (status < 400) {
            return null;
        }
        String type = answer.contentType();
        if (type == null || !type.startsWith("application/problem+json")) {
            return "refused " + status + " without a problem document (" + type + ")";
        }
        JsonNode problem;
        try {
            problem = JSON.readTree(answer.asString());
        } catch (IOException e) {
            return "refused " + status + " with a body that is not JSON";
        }
        if (!problem.path("type").asText().startsWith("/problems/")
                || problem.path("status").asInt() != status) {
            return "refused " + status + " with an incomplete problem " + abbreviate(problem.toString());
        }
        return after.equals(before) ? null : "refused " + status + " but the database changed";
    }

    private static Response send(Target target, Fixture fixture, ObjectNode body) {
        var request = target.runner() ? as(fixture.runner().secret()) : asAdmin();
        return request.body(body.toString())
                .request(target.method(), target.path().apply(fixture));
    }

    /** Every field path the schema declares, following $ref, allOf, the sample's variant of a oneOf, and items. */
    static List<Field> fields(JsonNode document, JsonNode schema, JsonNode sample, String prefix, int depth) {
        List<Field> out = new ArrayList<>();
        if (depth > MAX_DEPTH) {
            return out;
        }
        schema = resolve(document, schema, sample);
        JsonNode properties = properties(document, schema);
        for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> property = it.next();
            String path = prefix.isEmpty() ? property.getKey() : prefix + "." + property.getKey();
            JsonNode child = sample == null ? null : sample.get(property.getKey());
            JsonNode propertySchema = resolve(document, property.getValue(), child);
            out.add(new Field(path, propertySchema.path("type").asText()));
            if ("array".equals(propertySchema.path("type").asText())) {
                JsonNode item = child != null && child.isArray() && !child.isEmpty() ? child.get(0) : null;
                JsonNode itemSchema = resolve(document, propertySchema.path("items"), item);
                out.add(new Field(path + "[0]", itemSchema.path("type").asText()));
                out.addAll(fields(document, propertySchema.path("items"), item, path + "[0]", depth + 1));
            } else {
                out.addAll(fields(document, propertySchema, child, path, depth + 1));
            }
        }
        return out;
    }

    /** Follows $ref; for a oneOf, the variant the sample's discriminator names (or the first). */
    private static JsonNode resolve(JsonNode document, JsonNode schema, JsonNode sample) {
        for (int i = 0; i < 10; i++) {
            if (schema.has("$ref")) {
                schema = document.at(
                        "/components/schemas/" + refName(schema.get("$ref").asText()));
            } else if (schema.has("oneOf")) {
                schema = variant(schema, sample);
            } else {
                return schema;
            }
        }
        return schema;
    }

    private static JsonNode variant(JsonNode schema, JsonNode sample) {
        JsonNode mapping = schema.path("discriminator").path("mapping");
        String property = schema.path("discriminator").path("propertyName").asText();
        if (sample != null
                && sample.has(property)
                && mapping.has(sample.get(property).asText())) {
            return NODES.objectNode()
                    .put("$ref", mapping.get(sample.get(property).asText()).asText());
        }
        return schema.get("oneOf").get(0);
    }

    private static JsonNode properties(JsonNode document, JsonNode schema) {
        ObjectNode merged = NODES.objectNode();
        if (schema.has("properties")) {
            merged.setAll((ObjectNode) schema.get("properties"));
        }
        for (JsonNode part : schema.path("allOf")) {
            merged.setAll((ObjectNode) properties(document, resolve(document, part, null)));
        }
        return merged;
    }

    private static String refName(String ref) {
        return ref.substring(ref.lastIndexOf('/') + 1);
    }

    /** Sets the value at a path like {@code devices[0].name}, creating the objects and the item on the way. */
    static void set(ObjectNode root, String path, JsonNode value) {
        String[] steps = path.split("\\.");
        JsonNode node = root;
        for (int i = 0; i < steps.length; i++) {
            boolean last = i == steps.length - 1;
            String step = steps[i];
            boolean item = step.endsWith("[0]");
            String key = item ? step.substring(0, step.length() - 3) : step;
            ObjectNode parent = (ObjectNode) node;
            if (!item) {
                if (last) {
                    parent.set(key, value);
                    return;
                }
                if (!parent.path(key).isObject()) {
                    parent.set(key, NODES.objectNode());
                }
                node = parent.get(key);
                continue;
            }
            if (!parent.path(key).isArray()) {
                parent.set(key, NODES.arrayNode());
            }
            ArrayNode array = (ArrayNode) parent.get(key);
            if (last) {
                if (array.isEmpty()) {
                    array.add(value);
                } else {
                    array.set(0, value);
                }
                return;
            }
            if (array.isEmpty() || !array.get(0).isObject()) {
                array.removeAll();
                array.add(NODES.objectNode());
            }
            node = array.get(0);
        }
    }

    private static Map<String, JsonNode> jsonOperations() throws IOException {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (JsonNode path : document().path("paths")) {
            for (JsonNode operation : path) {
                JsonNode schema = operation
                        .path("requestBody")
                        .path("content")
                        .path("application/json")
                        .path("schema");
                if (!schema.isMissingNode()) {
                    out.put(operation.path("operationId").asText(), schema);
                }
            }
        }
        return out;
    }

    private static List<String> binaryOperations() throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode path : document().path("paths")) {
            for (JsonNode operation : path) {
                if (operation.path("requestBody").path("content").has("application/octet-stream")) {
                    out.add(operation.path("operationId").asText());
                }
            }
        }
        return out;
    }

    private static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of()
                    .formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode document() throws IOException {
        String configured = System.getProperty("contract.committed-openapi");
        Path committed = configured != null ? Path.of(configured) : Path.of("../openapi/openapi.yaml");
        return YAML.readTree(Files.readString(committed));
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
