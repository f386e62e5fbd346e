package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A data-parallel attempt over two runners, as the scheduler writes it: each runner learns its rank and its
 * replicas from its heartbeat, rank 0 publishes where its stores listen, and the other rank then finds it there.
 */
@QuarkusTest
class RendezvousTest {
    TwoRunnerAttempt gang;
    Fixtures.Token tokenA;
    Fixtures.Token tokenB;
    long runnerA;
    long runnerB;
    long attempt;
    String lease;

    @BeforeEach
    void twoRunnersShareAnAttempt() {
        String pool = Fixtures.pool();
        long job = Fixtures.submit(Spec.gpt(Fixtures.project(), pool)
                .set("resources.gpus", 4)
                .set("resources.multiNode", true)
                .set("parallelism.dataParallel", 2));
        gang = new TwoRunnerAttempt(pool, job, 2, 2);
        tokenA = gang.tokenA;
        tokenB = gang.tokenB;
        runnerA = gang.runnerA;
        runnerB = gang.runnerB;
        attempt = gang.attempt;
        lease = gang.lease;
    }

    @Test
    void eachRankLearnsItsReplicasAndRankOnesAddressArrivesOncePublished() {
        JsonPath a = assignment(tokenA, runnerA);
        JsonPath b = assignment(tokenB, runnerB);
        assertThat(List.of(
                        a.getInt("rank"), a.getInt("worldSize"), a.getInt("firstReplica"), a.getInt("localReplicas")))
                .containsExactly(0, 2, 0, 1);
        assertThat(List.of(
                        b.getInt("rank"), b.getInt("worldSize"), b.getInt("firstReplica"), b.getInt("localReplicas")))
                .containsExactly(1, 2, 1, 1);
        assertThat(b.getString("rendezvous")).isNull();
        assertThat(a.getString("pipeline")).as("whole pipelines on each runner").isNull();

        publish(Map.of("leaseToken", lease, "host", "10.0.0.7", "port", 29500))
                .statusCode(200)
                .body("attemptId", equalTo((int) attempt));

        assertThat(assignment(tokenB, runnerB).getString("rendezvous")).isEqualTo("10.0.0.7:29500");
        assertThat(assignment(tokenA, runnerA).getString("rendezvous")).isEqualTo("10.0.0.7:29500");
    }

    @Test
    void publishingAgainIsHarmlessButAnotherAddressIsRefused() {
        publish(Map.of("leaseToken", lease, "host", "10.0.0.7", "port", 29500)).statusCode(200);
        publish(Map.of("leaseToken", lease, "host", "10.0.0.7", "port", 29500)).statusCode(200);

        publish(Map.of("leaseToken", lease, "host", "10.0.0.8", "port", 29500))
                .statusCode(409)
                .contentType("application/problem+json");

        assertThat(assignment(tokenB, runnerB).getString("rendezvous")).isEqualTo("10.0.0.7:29500");
    }

    @Test
    void badAddressesAndStaleLeasesChangeNothing() {
        publish(Map.of("leaseToken", lease, "host", "10.0.0.7", "port", 0))
                .statusCode(400)
                .contentType("application/problem+json")
                .body("errors[0].field", equalTo("port"));
        publish(Map.of("leaseToken", lease, "host", " ", "port", 29500))
                .statusCode(400)
                .body("errors[0].field", equalTo("host"));
        publish(Map.of("leaseToken", lease, "port", 29500)).statusCode(400).body("errors[0].field", equalTo("host"));
        publish(Map.of("leaseToken", UUID.randomUUID().toString(), "host", "10.0.0.7", "port", 29500))
                .statusCode(409);

        assertThat(assignment(tokenB, runnerB).getString("rendezvous")).isNull();
    }

    @Test
    void aRankThatLostItsPeerEndsTheAttemptAsLostSoTheJobIsRetried() {
        as(tokenB.secret())
                .body(Map.of("leaseToken", lease, "outcome", "LOST", "message", "[rank 1] peer gone"))
                .post("/api/v1/runner/attempts/" + attempt + ":end")
                .then()
                .statusCode(200);

        assertThat(Db.queryString("select end_reason from attempts where id = ?", attempt))
                .startsWith("LOST");
        assertThat(Db.queryString(
                        "select j.state from jobs j join attempts a on a.job_id = j.id where a.id = ?", attempt))
                .isEqualTo("QUEUED");
    }

    @Test
    void theReplicaShareCountsWholeReplicasBeforeAndOnTheRunner() {
        dev.trainyard.spec.JobSpec threeReplicas = new com.fasterxml.jackson.databind.ObjectMapper()
                .convertValue(Map.of("parallelism", Map.of("dataParallel", 3)), dev.trainyard.spec.JobSpec.class);

        assertThat(ReplicaShare.of(threeReplicas, 6, 0, 2)).isEqualTo(new ReplicaShare(0, 1));
        assertThat(ReplicaShare.of(threeReplicas, 6, 2, 4)).isEqualTo(new ReplicaShare(1, 2));
        assertThat(ReplicaShare.of(threeReplicas, 6, 0, 6))
                .as("one runner holding them all")
                .isEqualTo(new ReplicaShare(0, 3));
    }

    @Test
    void anElasticAttemptRunningShortDealsEveryReplicaToItsRunners() {
        // three replicas of 2 devices asked for (6), at least 4: started on 2 runners with 2 devices each
        dev.trainyard.spec.JobSpec threeReplicas = new com.fasterxml.jackson.databind.ObjectMapper()
                .convertValue(
                        Map.of(
                                "parallelism",
                                Map.of("dataParallel", 3),
                                "resources",
                                Map.of("gpus", 6, "minGpus", 4, "multiNode", true)),
                        dev.trainyard.spec.JobSpec.class);

        assertThat(ReplicaShare.of(threeReplicas, 4, 0, 2)).isEqualTo(new ReplicaShare(0, 1));
        assertThat(ReplicaShare.of(threeReplicas, 4, 2, 2)).isEqualTo(new ReplicaShare(1, 2));
        assertThat(ReplicaShare.of(threeReplicas, 2, 0, 2))
                .as("one runner's 2 devices hold all three replicas")
                .isEqualTo(new ReplicaShare(0, 3));
    }

    private JsonPath assignment(Fixtures.Token token, long runner) {
        return gang.assignment(token, runner);
    }

    private io.restassured.response.ValidatableResponse publish(Map<String, Object> body) {
        return as(tokenA.secret())
                .body(body)
                .post("/api/v1/runner/attempts/" + attempt + ":rendezvous")
                .then();
    }
}
