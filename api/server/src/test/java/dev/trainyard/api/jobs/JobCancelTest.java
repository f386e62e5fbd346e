package dev.trainyard.api.jobs;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.id;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@QuarkusTest
class JobCancelTest {

    @Test
    void queuedJobIsCancelledAtOnceWithFinishTimeAndEvent() {
        long id = Fixtures.submit(Spec.gpt(Fixtures.project(), Fixtures.pool()));

        asAdmin()
                .post("/api/v1/jobs/" + id + ":cancel")
                .then()
                .statusCode(200)
                .body("id", id(id))
                .body("state", equalTo("CANCELLED"))
                .body("stateReason", equalTo("CANCELLED_BY_USER"))
                .body("finishedAt", notNullValue())
                .body("pending", nullValue());

        asAdmin()
                .get("/api/v1/jobs/" + id)
                .then()
                .body("state", equalTo("CANCELLED"))
                .body("finishedAt", notNullValue());
        asAdmin()
                .get("/api/v1/jobs/" + id + "/events")
                .then()
                .statusCode(200)
                .body("size()", equalTo(2))
                .body("[1].fromState", equalTo("QUEUED"))
                .body("[1].toState", equalTo("CANCELLED"))
                .body("[1].reason", equalTo("CANCELLED_BY_USER"));
    }

    @Test
    void preemptedJobWaitingToResumeIsCancelledAtOnce() {
        long id = Fixtures.submit(Spec.gpt(Fixtures.project(), Fixtures.pool()));
        Db.update("update jobs set state = 'PREEMPTED' where id = ?", id);

        asAdmin()
                .post("/api/v1/jobs/" + id + ":cancel")
                .then()
                .statusCode(200)
                .body("state", equalTo("CANCELLED"))
                .body("finishedAt", notNullValue());
    }

    @Test
    void cancellingACancelledJobIsAnInvalidStateConflict() {
        long id = Fixtures.submit(Spec.gpt(Fixtures.project(), Fixtures.pool()));
        asAdmin().post("/api/v1/jobs/" + id + ":cancel").then().statusCode(200);

        problem(asAdmin().post("/api/v1/jobs/" + id + ":cancel").then(), 409)
                .body("type", equalTo("/problems/invalid-state"));
        assertThat(Db.queryLong("select count(*) from job_events where job_id = ?", id))
                .isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SUCCEEDED", "FAILED", "BUDGET_EXHAUSTED"})
    void cancellingAFinishedJobIsAnInvalidStateConflictAndChangesNothing(String terminal) {
        long id = Fixtures.submit(Spec.gpt(Fixtures.project(), Fixtures.pool()));
        Db.finish(id, terminal);

        problem(asAdmin().post("/api/v1/jobs/" + id + ":cancel").then(), 409)
                .body("type", equalTo("/problems/invalid-state"));
        asAdmin()
                .get("/api/v1/jobs/" + id)
                .then()
                .body("state", equalTo(terminal))
                .body("cancelRequested", equalTo(false));
    }

    @Test
    void runningJobIsAskedToStopAndKeepsRunningUntilItsRunnerConfirms() {
        String pool = Fixtures.pool();
        long id = Fixtures.submit(Spec.gpt(Fixtures.project(), pool));
        long runner = Db.insertRunner(pool, 1, "ACTIVE");
        long attempt = Db.makeRunning(id, runner);

        asAdmin()
                .post("/api/v1/jobs/" + id + ":cancel")
                .then()
                .statusCode(200)
                .body("state", equalTo("RUNNING"))
                .body("cancelRequested", equalTo(true))
                .body("finishedAt", nullValue());

        assertThat(Db.queryString("select state from attempts where id = ?", attempt))
                .isEqualTo("STOPPING");
        assertThat(Db.queryString("select stop_reason from attempts where id = ?", attempt))
                .isEqualTo("CANCELLED");
        asAdmin()
                .get("/api/v1/jobs/" + id)
                .then()
                .body("state", equalTo("RUNNING"))
                .body("cancelRequested", equalTo(true));
    }

    @Test
    void cancellingARunningJobTwiceIsHarmless() {
        String pool = Fixtures.pool();
        long id = Fixtures.submit(Spec.gpt(Fixtures.project(), pool));
        Db.makeRunning(id, Db.insertRunner(pool, 1, "ACTIVE"));
        asAdmin().post("/api/v1/jobs/" + id + ":cancel").then().statusCode(200);

        asAdmin()
                .post("/api/v1/jobs/" + id + ":cancel")
                .then()
                .statusCode(200)
                .body("state", equalTo("RUNNING"))
                .body("cancelRequested", equalTo(true));
    }

    @Test
    void cancellingAnUnknownJobIsNotFound() {
        problem(asAdmin().post("/api/v1/jobs/987654321:cancel").then(), 404);
    }
}
