package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A running attempt of a job over two registered runners of two CPU devices each, written as the scheduler writes
 * a gang ({@code gpusA} on rank 0, {@code gpusB} on rank 1), and each runner's view of it through its heartbeat.
 */
final class TwoRunnerAttempt {
    final Fixtures.Token tokenA = Fixtures.runner();
    final Fixtures.Token tokenB = Fixtures.runner();
    final long runnerA;
    final long runnerB;
    final long attempt;
    final String lease = UUID.randomUUID().toString();

    TwoRunnerAttempt(String pool, long job, int gpusA, int gpusB) {
        runnerA = register(tokenA, pool);
        runnerB = register(tokenB, pool);
        Db.update("update jobs set state = 'RUNNING', started_at = now(), pending_reason = null where id = ?", job);
        attempt = Db.queryLong("""
                insert into attempts (job_id, number, runner_id, gpus, lease_token, state, started_at)
                values (?, 1, ?, ?, cast(? as uuid), 'RUNNING', now()) returning id""", job, runnerA, gpusA + gpusB, lease);
        Db.update(
                "insert into attempt_runners (attempt_id, rank, runner_id, gpus) values (?, 0, ?, ?), (?, 1, ?, ?)",
                attempt,
                runnerA,
                gpusA,
                attempt,
                runnerB,
                gpusB);
    }

    /** Registers a runner of two CPU devices in {@code pool} with {@code token}. */
    static long register(Fixtures.Token token, String pool) {
        return as(token.secret())
                .body(Map.of(
                        "name",
                        Names.unique("node"),
                        "host",
                        "127.0.0.1",
                        "pool",
                        pool,
                        "devices",
                        List.of(
                                Map.of("index", 0, "kind", "cpu", "name", "cpu:0"),
                                Map.of("index", 1, "kind", "cpu", "name", "cpu:1"))))
                .post("/api/v1/runner/register")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getLong("runnerId");
    }

    /** The attempt as the runner's heartbeat lists it (null fields when it is not listed). */
    JsonPath assignment(Fixtures.Token token, long runner) {
        JsonPath answer = as(token.secret())
                .body(Map.of("runnerId", runner, "waitMs", 0))
                .post("/api/v1/runner/heartbeat")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        return new JsonPath(answer.prettify()).setRootPath("assignments.find { it.attemptId == " + attempt + " }");
    }
}
