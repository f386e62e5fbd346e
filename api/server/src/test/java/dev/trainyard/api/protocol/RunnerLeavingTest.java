package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A runner stopped on purpose says so in its heartbeat: its attempts checkpoint and stop, their jobs go back to
 * the queue without using a restart, and the runner goes DRAINING, then OFFLINE, never LOST.
 */
@QuarkusTest
class RunnerLeavingTest {

    @Test
    void aLeavingRunnersJobIsRequeuedWithoutARestartAndTheRunnerGoesOffline() {
        String pool = Fixtures.pool();
        Fixtures.Token token = Fixtures.runner();
        long runner = register(token, pool);
        long job = Fixtures.submit(Spec.gpt(Fixtures.project(), pool).set("limits.maxRestarts", 0));
        long attempt = Db.makeRunning(job, runner);
        String lease = Db.queryString("select lease_token::text from attempts where id = ?", attempt);

        heartbeat(token, runner, true)
                .body("runnerState", equalTo("DRAINING"))
                .body("assignments[0].attemptId", equalTo((int) attempt))
                .body("assignments[0].stop", equalTo("RUNNER_STOP"));

        as(token.secret())
                .body(Map.of("leaseToken", lease, "outcome", "STOPPED", "finalStep", 5))
                .post("/api/v1/runner/attempts/" + attempt + ":end")
                .then()
                .statusCode(200);

        asAdmin()
                .get("/api/v1/jobs/" + job)
                .then()
                .statusCode(200)
                .body("state", equalTo("QUEUED"))
                .body("stateReason", equalTo("REQUEUED_RUNNER_STOPPED"))
                .body("restarts", equalTo(0));
        assertThat(Db.queryString("select end_reason from attempts where id = ?", attempt))
                .isEqualTo("RUNNER_STOPPED");

        heartbeat(token, runner, true).body("runnerState", equalTo("OFFLINE")).body("assignments", empty());
        assertThat(Db.queryString("select state from runners where id = ?", runner))
                .isEqualTo("OFFLINE");
    }

    @Test
    void anAttemptAskedToStopForTheRunnerThatIsThenLostStillUsesNoRestart() {
        String pool = Fixtures.pool();
        Fixtures.Token token = Fixtures.runner();
        long runner = register(token, pool);
        long job = Fixtures.submit(Spec.gpt(Fixtures.project(), pool).set("limits.maxRestarts", 0));
        Db.makeRunning(job, runner);
        heartbeat(token, runner, true).body("assignments[0].stop", equalTo("RUNNER_STOP"));

        // killed before it could report its end: it registers again when it comes back
        register(token, pool);

        asAdmin()
                .get("/api/v1/jobs/" + job)
                .then()
                .body("state", equalTo("QUEUED"))
                .body("stateReason", equalTo("REQUEUED_RUNNER_STOPPED"))
                .body("restarts", equalTo(0));
    }

    private static final Map<Fixtures.Token, String> NAMES = new java.util.concurrent.ConcurrentHashMap<>();

    private static long register(Fixtures.Token token, String pool) {
        String name = NAMES.computeIfAbsent(token, t -> Names.unique("leaver"));
        return Fixtures.registration(token, name, pool)
                .statusCode(200)
                .extract()
                .jsonPath()
                .getLong("runnerId");
    }

    private static ValidatableResponse heartbeat(Fixtures.Token token, long runner, boolean leaving) {
        return as(token.secret())
                .body(Map.of("runnerId", runner, "waitMs", 0, "leaving", leaving))
                .post("/api/v1/runner/heartbeat")
                .then()
                .statusCode(200);
    }
}
