package dev.trainyard.api.jobs;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.trainyard.api.testing.ApiRequests;
import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every way a submission can be wrong: each is refused with a 4xx problem that names the offending field,
 * and nothing is stored.
 */
@QuarkusTest
class BadSubmissionTest {
    private static final String PROJECT = "__project__";
    private static final String POOL = "__pool__";
    private static String project;
    private static String pool;

    /** A bad request: its body (with placeholders for the fixtures), the status and the field expected. */
    record Case(String body, int status, String field, String contentType) {}

    private static Arguments bad(String name, String field, UnaryOperator<Spec> breakIt) {
        return raw(name, 400, field, breakIt.apply(Spec.gpt(PROJECT, POOL)).json());
    }

    private static Arguments raw(String name, int status, String field, String body) {
        return Arguments.of(Named.of(name, new Case(body, status, field, "application/json")));
    }

    private static String valid() {
        return Spec.gpt(PROJECT, POOL).json();
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                raw("malformed JSON", 400, null, "{\"name\": \"x\","),
                raw("trailing garbage after the spec", 400, null, valid() + " trailing"),
                raw("a second document after the spec", 400, null, valid() + "{}"),
                raw("empty body", 400, null, ""),
                raw("array body", 400, null, "[" + valid() + "]"),
                raw("JSON null as body", 400, null, "null"),
                raw("string as body", 400, null, "\"tiny-gpt\""),
                bad("name is a number", "name", s -> s.set("name", 5)),
                bad("name is null", "name", s -> s.set("name", null)),
                bad("name missing", "name", s -> s.remove("name")),
                bad("name with spaces", "name", s -> s.set("name", "my job")),
                bad("name of 101 characters", "name", s -> s.set("name", "n".repeat(101))),
                bad("gpus as the string \"2\"", "resources.gpus", s -> s.set("resources.gpus", "2")),
                bad("2.5 GPUs", "resources.gpus", s -> s.set("resources.gpus", 2.5)),
                bad("zero GPUs", "resources.gpus", s -> s.set("resources.gpus", 0)),
                bad("negative GPUs", "resources.gpus", s -> s.set("resources.gpus", -1)),
                bad("absurd GPU count", "resources.gpus", s -> s.set("resources.gpus", 100_000)),
                bad("GPU count beyond int range", "resources.gpus", s -> s.set("resources.gpus", 3_000_000_000L)),
                bad("GPUs as a boolean", "resources.gpus", s -> s.set("resources.gpus", true)),
                bad(
                        "minGpus above gpus",
                        "resources.minGpus",
                        s -> s.set("resources.gpus", 2).set("resources.minGpus", 3)),
                bad("unknown top-level field", "colour", s -> s.set("colour", "blue")),
                bad("unknown field in resources", "resources.colour", s -> s.set("resources.colour", "blue")),
                bad("unknown field in model", "model.colour", s -> s.set("model.colour", "blue")),
                bad("unknown field in training", "training.optimizer", s -> s.set("training.optimizer", "sgd")),
                bad("unknown field in data", "data.shuffle", s -> s.set("data.shuffle", true)),
                bad("unknown field in checkpoint", "checkpoint.keepWorst", s -> s.set("checkpoint.keepWorst", true)),
                bad("unknown model type", "model", s -> s.set("model.type", "transformer-xl")),
                bad("model without type", "model", s -> s.remove("model.type")),
                bad("unknown data type", "data", s -> s.set("data.type", "parquet")),
                bad("model is a string", "model", s -> s.set("model", "gpt")),
                bad("model is null", "model", s -> s.set("model", null)),
                bad("training is null", "training", s -> s.set("training", null)),
                bad("resources missing", "resources", s -> s.remove("resources")),
                bad("resources is an array", "resources", s -> s.set("resources", List.of(1))),
                bad("priority mega", "priority", s -> s.set("priority", "mega")),
                bad("priority as a number", "priority", s -> s.set("priority", 3)),
                bad("schedule zigzag", "parallelism.schedule", s -> s.set("parallelism.schedule", "zigzag")),
                bad("balance by flops", "parallelism.balance", s -> s.set("parallelism.balance", "flops")),
                bad("precision fp8", "training.precision", s -> s.set("training.precision", "fp8")),
                bad("multiNode as the string \"yes\"", "resources.multiNode", s -> s.set("resources.multiNode", "yes")),
                bad("heads not dividing dModel", "model.heads", s -> s.set("model.heads", 3)),
                bad("zero heads", "model.heads", s -> s.set("model.heads", 0)),
                bad(
                        "zero tensor-parallel devices",
                        "parallelism.tensorParallel",
                        s -> s.set("parallelism.tensorParallel", 0)),
                bad(
                        "tensorParallel not dividing the heads",
                        "parallelism.tensorParallel",
                        s -> s.set("resources.gpus", 3).set("parallelism.tensorParallel", 3)),
                bad(
                        "tensorParallel x stages not equal to gpus",
                        "parallelism.stages",
                        s -> s.set("resources.gpus", 2)
                                .set("parallelism.tensorParallel", 2)
                                .set("parallelism.stages", 2)),
                bad(
                        "batch not divisible by micro-batches",
                        "training.batchSize",
                        s -> s.set("training.batchSize", 16).set("parallelism.microBatches", 3)),
                bad(
                        "stages x dataParallel not equal to gpus",
                        "parallelism.stages",
                        s -> s.set("resources.gpus", 2).set("parallelism.stages", 1)),
                bad("more devices than model blocks", "resources.gpus", s -> s.set("resources.gpus", 8)),
                bad(
                        "dataParallel not dividing gpus",
                        "parallelism.dataParallel",
                        s -> s.set("resources.gpus", 3).set("parallelism.dataParallel", 2)),
                bad(
                        "text data with an ftp URI",
                        "data.uri",
                        s -> s.replace("data", Map.of("type", "text", "uri", "ftp://example.com/corpus.txt"))),
                bad(
                        "text data with something that is not a URI",
                        "data.uri",
                        s -> s.replace("data", Map.of("type", "text", "uri", "http://exa mple.com/ x"))),
                bad("text data without a URI", "data.uri", s -> s.replace("data", Map.of("type", "text"))),
                bad(
                        "torchscript model without a URI",
                        "model.uri",
                        s -> s.replace("model", Map.of("type", "torchscript"))),
                bad(
                        "torchscript model with an unknown task",
                        "model.task",
                        s -> s.replace(
                                "model", Map.of("type", "torchscript", "uri", "file:/models/m.pt", "task", "ranking"))),
                bad(
                        "torchscript model with a one-token context",
                        "model.seqLen",
                        s -> s.replace(
                                "model", Map.of("type", "torchscript", "uri", "file:/models/m.pt", "seqLen", 1))),
                bad(
                        "csv data without features",
                        "data.features",
                        s -> s.replace(
                                "data",
                                Map.of("type", "csv", "uri", "file:/data/x.csv", "features", List.of(), "label", "y"))),
                bad(
                        "mlp with a zero-width hidden layer",
                        "model.hidden[0]",
                        s -> s.replace("model", Map.of("type", "mlp", "inputs", 4, "hidden", List.of(0), "outputs", 2))
                                .replace("data", Map.of("type", "synthetic-tabular"))),
                bad(
                        "mlp hidden widths as a string",
                        "model.hidden",
                        s -> s.replace("model", Map.of("type", "mlp", "inputs", 4, "hidden", "64", "outputs", 2))),
                bad("unknown pool", "resources.pool", s -> s.set("resources.pool", "no-such-pool-x")),
                bad("pool name that is not a name", "resources.pool", s -> s.set("resources.pool", "Bad Pool!")),
                bad("neither pool nor gpuType", "resources.pool", s -> s.remove("resources.pool")),
                bad("gpuType that is not the pool's", "resources.gpuType", s -> s.set("resources.gpuType", "h100")),
                bad("project not found", "project", s -> s.set("project", "no-such-project-x")),
                bad("zero steps", "training.steps", s -> s.set("training.steps", 0)),
                bad("steps missing", "training.steps", s -> s.remove("training.steps")),
                bad("negative learning rate", "training.learningRate", s -> s.set("training.learningRate", -0.1)),
                bad("warmup longer than training", "training.warmupSteps", s -> s.set("training.warmupSteps", 11)),
                bad("dropout 1.5", "model.dropout", s -> s.set("model.dropout", 1.5)),
                bad("evalFraction 0.9", "data.evalFraction", s -> s.set("data.evalFraction", 0.9)),
                bad("evalFraction 0: nothing to evaluate on", "data.evalFraction", s -> s.set("data.evalFraction", 0)),
                bad("gpt on tabular data", "data.type", s -> s.set("data.type", "synthetic-tabular")),
                bad("vocab below the arithmetic bytes", "model.vocab", s -> s.set("model.vocab", 100)),
                bad("negative data seed", "data.seed", s -> s.set("data.seed", -1)),
                bad("negative cost limit", "limits.maxCostUsd", s -> s.set("limits.maxCostUsd", -1)),
                bad("zero runtime limit", "limits.maxRuntimeSeconds", s -> s.set("limits.maxRuntimeSeconds", 0)),
                bad("restarts as a float", "limits.maxRestarts", s -> s.set("limits.maxRestarts", 1.5)),
                bad("zero checkpoints kept", "checkpoint.keepLast", s -> s.set("checkpoint.keepLast", 0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void malformedSubmissionIsRefusedWithAProblemAndStoresNothing(Case c) {
        long before = Db.jobCount();

        var answer = asAdmin()
                .contentType(c.contentType())
                .body(body(c))
                .post("/api/v1/jobs")
                .then();

        problem(answer, c.status());
        if (c.field() != null) {
            answer.body("errors.field", hasItem(c.field()));
        }
        assertThat(Db.jobCount()).isEqualTo(before);
    }

    @Test
    void bodyOverOneMebibyteIsRefusedAsTooLargeAndStoresNothing() {
        long before = Db.jobCount();
        String body =
                Spec.gpt(project(), pool()).set("name", "n".repeat(1_100_000)).json();

        problem(asAdmin().body(body).post("/api/v1/jobs").then(), 413)
                .body("type", equalTo("/problems/payload-too-large"));
        assertThat(Db.jobCount()).isEqualTo(before);
    }

    @Test
    void chunkedBodyOverOneMebibyteIsRefusedAsTooLargeToo() throws Exception {
        long before = Db.jobCount();
        byte[] body = Spec.gpt(project(), pool())
                .set("name", "n".repeat(1_100_000))
                .json()
                .getBytes(StandardCharsets.UTF_8);
        // a body of unknown length travels chunked, without Content-Length
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(RestAssured.baseURI + ":" + RestAssured.port + "/api/v1/jobs"))
                .header("Authorization", "Bearer " + ApiRequests.ADMIN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
                .build();

        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode())
                .as(response.body().substring(0, Math.min(300, response.body().length())))
                .isEqualTo(413);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith(ApiRequests.PROBLEM_JSON));
        assertThat(Db.jobCount()).isEqualTo(before);
    }

    @Test
    void bodyInAnotherMediaTypeIsUnsupported() {
        long before = Db.jobCount();

        problem(
                asAdmin()
                        .contentType("text/plain")
                        .body(Spec.gpt(project(), pool()).json())
                        .post("/api/v1/jobs")
                        .then(),
                415);
        assertThat(Db.jobCount()).isEqualTo(before);
    }

    @Test
    void duplicateKeyIsRefusedRatherThanSilentlyResolved() {
        long before = Db.jobCount();
        String body = Spec.gpt(project(), pool()).json().replaceFirst("\\{", "{\"name\":\"first\",");

        problem(asAdmin().body(body).post("/api/v1/jobs").then(), 400);
        assertThat(Db.jobCount()).isEqualTo(before);
    }

    @Test
    void everyViolationIsReportedAtOnce() {
        String body = Spec.gpt(project(), pool())
                .set("resources.gpus", 0)
                .set("model.heads", 3)
                .set("training.steps", 0)
                .json();

        problem(asAdmin().body(body).post("/api/v1/jobs").then(), 400)
                .body("errors.field", hasItem("resources.gpus"))
                .body("errors.field", hasItem("model.heads"))
                .body("errors.field", hasItem("training.steps"));
    }

    private static String body(Case c) {
        return c.body().replace(PROJECT, project()).replace(POOL, pool());
    }

    private static synchronized String project() {
        if (project == null) {
            project = Fixtures.project();
        }
        return project;
    }

    private static synchronized String pool() {
        if (pool == null) {
            pool = Fixtures.pool();
        }
        return pool;
    }
}
