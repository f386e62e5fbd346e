package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A 3-stage pipeline cut over two runners, as the scheduler writes it (stages 0-1 on rank 0's 2 devices, stage 2 on
 * rank 1's): each runner learns its stages from its heartbeat and meets the other at the attempt's rendezvous.
 */
@QuarkusTest
class PipelineAssignmentTest {
    Fixtures.Token tokenA;
    Fixtures.Token tokenB;
    long runnerA;
    long runnerB;
    long attempt;
    String lease;

    @BeforeEach
    void twoRunnersShareOnePipeline() {
        String pool = Fixtures.pool();
        long job = Fixtures.submit(
                Spec.gpt(Fixtures.project(), pool).set("resources.gpus", 3).set("resources.multiNode", true));
        tokenA = Fixtures.runner();
        tokenB = Fixtures.runner();
        runnerA = register(tokenA, pool);
        runnerB = register(tokenB, pool);
        lease = UUID.randomUUID().toString();
        Db.update("update jobs set state = 'RUNNING', started_at = now(), pending_reason = null where id = ?", job);
        attempt = Db.queryLong("""
                insert into attempts (job_id, number, runner_id, gpus, lease_token, state, started_at)
                values (?, 1, ?, 3, cast(? as uuid), 'RUNNING', now()) returning id""", job, runnerA, lease);
        Db.update(
                "insert into attempt_runners (attempt_id, rank, runner_id, gpus) values (?, 0, ?, 2), (?, 1, ?, 1)",
                attempt,
                runnerA,
                attempt,
                runnerB);
    }

    @Test
    void eachRunnerLearnsItsStagesInRankOrder() {
        JsonPath a = assignment(tokenA, runnerA);
        JsonPath b = assignment(tokenB, runnerB);

        assertThat(share(a)).containsExactly(0, 2, 0, 2, 3);
        assertThat(share(b)).containsExactly(1, 2, 2, 3, 3);
        assertThat(List.of(b.getInt("firstReplica"), b.getInt("localReplicas")))
                .as("the one replica")
                .containsExactly(0, 1);
    }

    @Test
    void rankOnesStoreAddressReachesTheNextStagesRunner() {
        assertThat(assignment(tokenB, runnerB).getString("rendezvous")).isNull();

        as(tokenA.secret())
                .body(Map.of("leaseToken", lease, "host", "10.0.0.9", "port", 29600))
                .post("/api/v1/runner/attempts/" + attempt + ":rendezvous")
                .then()
                .statusCode(200);

        assertThat(assignment(tokenB, runnerB).getString("rendezvous")).isEqualTo("10.0.0.9:29600");
    }

    @Test
    void aRunnerOutsideTheAttemptSeesNoneOfIt() {
        Fixtures.Token other = Fixtures.runner();
        long runnerC = register(
                other,
                Db.queryString(
                        "select p.name from pools p join runners r on r.pool_id = p.id" + " where r.id = ?", runnerA));

        assertThat(assignment(other, runnerC).getMap("")).isNull();
    }

    /** [rank, processes, firstStage, endStage, stages] of an assignment's pipeline share. */
    private static List<Integer> share(JsonPath assignment) {
        return List.of(
                assignment.getInt("pipeline.rank"),
                assignment.getInt("pipeline.processes"),
                assignment.getInt("pipeline.firstStage"),
                assignment.getInt("pipeline.endStage"),
                assignment.getInt("pipeline.stages"));
    }

    private long register(Fixtures.Token token, String pool) {
        return as(token.secret())
                .body(Map.of(
                        "name",
                        Names.unique("stage-node"),
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

    private JsonPath assignment(Fixtures.Token token, long runner) {
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
