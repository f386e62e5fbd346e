package dev.trainyard.api;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.hasItem;

import dev.trainyard.api.testing.DatabaseDigest;
import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Input that used to be taken for something else or answered 500 (issue 12): each is now a 400 problem naming the
 * field, and the database is exactly as before.
 */
@QuarkusTest
class InputRulesTest {
    private static final String NUL = "a\u0000b";

    String project;
    String pool;
    Fixtures.Token runner;
    long job;
    long attempt;
    String lease;

    @BeforeEach
    void aRunningAttempt() {
        project = Fixtures.project();
        pool = Fixtures.pool();
        job = Fixtures.submit(Spec.gpt(project, pool));
        runner = Fixtures.runner();
        attempt = Db.makeRunning(job, Db.insertRunner(pool, 1, "ACTIVE", runner.id()));
        lease = Db.queryString("select lease_token::text from attempts where id = ?", attempt);
    }

    @Test
    void anEmptyStringIsNotANumberAndZeroIsNotABoolean() {
        refused(
                "limits.maxCostUsd",
                () -> asAdmin()
                        .body(Spec.gpt(project, pool)
                                .set("limits.maxCostUsd", "")
                                .json())
                        .post("/api/v1/jobs")
                        .then());
        refused(
                "budgetUsd",
                () -> asAdmin()
                        .body(Map.of("budgetUsd", ""))
                        .patch("/api/v1/projects/" + project)
                        .then());
        refused(
                "unlimited",
                () -> asAdmin()
                        .body(Map.of("unlimited", 0))
                        .patch("/api/v1/projects/" + project)
                        .then());
        refused(
                "resources.gpus",
                () -> asAdmin()
                        .body(Spec.gpt(project, pool).set("resources.gpus", "").json())
                        .post("/api/v1/jobs")
                        .then());
    }

    @Test
    void aNulInAnyStoredStringIsRefused() {
        refused(
                "gpuType",
                () -> asAdmin()
                        .body(Map.of("name", "nul-pool", "gpuType", NUL, "pricePerGpuHour", 1))
                        .post("/api/v1/pools")
                        .then());
        refused(
                "name",
                () -> asAdmin()
                        .body(Map.of("name", NUL, "role", "RUNNER"))
                        .post("/api/v1/tokens")
                        .then());
        refused(
                "name",
                () -> asAdmin()
                        .body(Spec.gpt(project, pool).set("name", NUL).json())
                        .post("/api/v1/jobs")
                        .then());
        refused("host", () -> register(NUL, device(0, "cpu:0", 1L)));
        refused("devices[0].name", () -> register("host-a", device(0, NUL, 1L)));
        refused("lines[0].line", () -> logs(List.of(Map.of("at", Instant.now().toString(), "line", NUL))));
        refused(
                "message",
                () -> as(runner.secret())
                        .body(Map.of("leaseToken", lease, "outcome", "FAILED", "message", NUL))
                        .post("/api/v1/runner/attempts/" + attempt + ":end")
                        .then());
    }

    @Test
    void aStringPastItsDeclaredLengthIsRefused() {
        refused("host", () -> register("h".repeat(256), device(0, "cpu:0", 1L)));
        refused(
                "data.uri",
                () -> asAdmin()
                        .body(Spec.gpt(project, pool)
                                .set("data.uri", "x".repeat(5000))
                                .json())
                        .post("/api/v1/jobs")
                        .then());
    }

    @Test
    void runnerReportsAreCheckedLikeUserBodies() {
        refused("devices[0].memoryBytes", () -> register("host-a", device(0, "cpu:0", -1L)));
        refused("devices[0].name", () -> register("host-a", Map.of("index", 0, "kind", "cpu")));
        long steps = Db.queryLong("select total_steps from jobs where id = ?", job);
        refused(
                "points.step",
                () -> as(runner.secret())
                        .body(Map.of(
                                "leaseToken",
                                lease,
                                "points",
                                List.of(Map.of("step", 1_000_000_000_000L, "name", "loss", "value", 1))))
                        .post("/api/v1/runner/attempts/" + attempt + "/metrics")
                        .then());
        refused(
                "points.step",
                () -> as(runner.secret())
                        .body(Map.of(
                                "leaseToken",
                                lease,
                                "points",
                                List.of(Map.of("step", steps + 1, "name", "loss", "value", 1))))
                        .post("/api/v1/runner/attempts/" + attempt + "/metrics")
                        .then());
        refused("lines[0].at", () -> logs(List.of(Map.of("line", "no time"))));
        refused("lines[0].at", () -> logs(List.of(Map.of("at", "2001-01-01T00:00:00Z", "line", "long ago"))));
        refused(
                "finalStep",
                () -> as(runner.secret())
                        .body(Map.of("leaseToken", lease, "outcome", "SUCCEEDED", "finalStep", steps + 1))
                        .post("/api/v1/runner/attempts/" + attempt + ":end")
                        .then());
        refused(
                "body",
                () -> as(runner.secret())
                        .contentType("application/octet-stream")
                        .header("X-Lease-Token", lease)
                        .header("X-Checksum-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                        .body(new byte[0])
                        .put("/api/v1/runner/attempts/" + attempt + "/checkpoints/1")
                        .then());
    }

    @Test
    void headersAndRequestLinesTooLargeAreAnsweredWithProblems() {
        problem(
                asAdmin()
                        .header("X-Filler", "f".repeat(30_000))
                        .get("/api/v1/pools")
                        .then(),
                431);
        problem(asAdmin().get("/api/v1/pools?filler=" + "f".repeat(5000)).then(), 414);
    }

    private ValidatableResponse register(String host, Map<String, Object> device) {
        return as(runner.secret())
                .body(Map.of("name", "node-input", "host", host, "pool", pool, "devices", List.of(device)))
                .post("/api/v1/runner/register")
                .then();
    }

    private ValidatableResponse logs(List<Map<String, Object>> lines) {
        return as(runner.secret())
                .body(Map.of("leaseToken", lease, "lines", lines))
                .post("/api/v1/runner/attempts/" + attempt + "/logs")
                .then();
    }

    private static Map<String, Object> device(int index, String name, Long memoryBytes) {
        return Map.of("index", index, "kind", "cpu", "name", name, "memoryBytes", memoryBytes);
    }

    private static void refused(String field, Supplier<ValidatableResponse> request) {
        String before = DatabaseDigest.now();
        problem(request.get(), 400).body("errors.field", hasItem(field));
        assertThat(DatabaseDigest.now()).as(field + ": nothing may change").isEqualTo(before);
    }
}
