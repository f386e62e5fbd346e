package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A 3-stage pipeline cut over two runners, as the scheduler writes it (stages 0-1 on rank 0's 2 devices, stage 2 on
 * rank 1's): each runner learns its stages from its heartbeat and meets the other at the attempt's rendezvous.
 */
@QuarkusTest
class PipelineAssignmentTest {
    String pool;
    TwoRunnerAttempt gang;

    @BeforeEach
    void twoRunnersShareOnePipeline() {
        pool = Fixtures.pool();
        long job = Fixtures.submit(
                Spec.gpt(Fixtures.project(), pool).set("resources.gpus", 3).set("resources.multiNode", true));
        gang = new TwoRunnerAttempt(pool, job, 2, 1);
    }

    @Test
    void eachRunnerLearnsItsStagesInRankOrder() {
        JsonPath a = gang.assignment(gang.tokenA, gang.runnerA);
        JsonPath b = gang.assignment(gang.tokenB, gang.runnerB);

        assertThat(share(a)).containsExactly(0, 2, 0, 2, 3);
        assertThat(share(b)).containsExactly(1, 2, 2, 3, 3);
        assertThat(List.of(b.getInt("firstReplica"), b.getInt("localReplicas")))
                .as("the one replica")
                .containsExactly(0, 1);
    }

    @Test
    void rankOnesStoreAddressReachesTheNextStagesRunner() {
        assertThat(gang.assignment(gang.tokenB, gang.runnerB).getString("rendezvous"))
                .isNull();

        as(gang.tokenA.secret())
                .body(Map.of("leaseToken", gang.lease, "host", "10.0.0.9", "port", 29600))
                .post("/api/v1/runner/attempts/" + gang.attempt + ":rendezvous")
                .then()
                .statusCode(200);

        assertThat(gang.assignment(gang.tokenB, gang.runnerB).getString("rendezvous"))
                .isEqualTo("10.0.0.9:29600");
    }

    @Test
    void aRunnerOutsideTheAttemptSeesNoneOfIt() {
        Fixtures.Token other = Fixtures.runner();
        long runnerC = TwoRunnerAttempt.register(other, pool);

        assertThat(gang.assignment(other, runnerC).getMap("")).isNull();
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
}
