package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A runner whose training diverged reports where: the job ends FAILED with its own reason, TRAINING_DIVERGED, and
 * the step and the loss are data in the job and in its ending event, a non-finite loss named rather than lost in
 * JSON. A report that contradicts itself is refused and changes nothing.
 */
@QuarkusTest
class DivergenceEndTest {

    @Test
    void aDivergedAttemptEndsTheJobFailedWithTheStepAndTheLossAsData() {
        Running r = running();

        end(r, Map.of("step", 7, "loss", 4285.25)).statusCode(200);

        asAdmin()
                .get("/api/v1/jobs/" + r.job)
                .then()
                .statusCode(200)
                .body("state", equalTo("FAILED"))
                .body("stateReason", equalTo("TRAINING_DIVERGED"))
                .body("divergence.step", equalTo(7))
                .body("divergence.loss", equalTo(4285.25f))
                .body("divergence.nonFinite", nullValue());
        JsonPath events = asAdmin()
                .get("/api/v1/jobs/" + r.job + "/events")
                .then()
                .extract()
                .jsonPath();
        List<Map<String, Object>> all = events.getList("$");
        Map<String, Object> last = all.get(all.size() - 1);
        assertThat(last).containsEntry("reason", "TRAINING_DIVERGED").containsEntry("toState", "FAILED");
        Map<?, ?> divergence = (Map<?, ?>) last.get("divergence");
        assertThat(divergence.get("step")).isEqualTo(7);
        assertThat(((Number) divergence.get("loss")).doubleValue()).isEqualTo(4285.25);
        assertThat(Db.queryLong("select restarts from jobs where id = ?", r.job))
                .isZero();
    }

    @Test
    void aNonFiniteLossIsNamedNotDropped() {
        Running r = running();

        end(r, Map.of("step", 3, "nonFinite", "NaN")).statusCode(200);

        asAdmin()
                .get("/api/v1/jobs/" + r.job)
                .then()
                .body("stateReason", equalTo("TRAINING_DIVERGED"))
                .body("divergence.step", equalTo(3))
                .body("divergence.nonFinite", equalTo("NaN"))
                .body("divergence.loss", nullValue());
        assertThat(Db.queryString("select divergence_loss::text from jobs where id = ?", r.job))
                .isEqualTo("NaN");
    }

    @Test
    void aContradictoryDivergenceIsRefusedAndChangesNothing() {
        Running r = running();
        List<Map<String, Object>> bad = List.of(
                Map.of("step", 3, "loss", 1.5, "nonFinite", "NaN"),
                Map.of("step", 3),
                Map.of("step", 3, "nonFinite", "nan"),
                Map.of("step", 11, "loss", 9.0),
                Map.of("step", -1, "loss", 9.0));
        for (Map<String, Object> divergence : bad) {
            end(r, divergence)
                    .statusCode(400)
                    .contentType("application/problem+json")
                    .body("errors[0].field", org.hamcrest.Matchers.startsWith("divergence"));
        }
        as(r.token.secret())
                .body(Map.of("leaseToken", r.lease, "outcome", "STOPPED", "divergence", Map.of("step", 3, "loss", 9.0)))
                .post("/api/v1/runner/attempts/" + r.attempt + ":end")
                .then()
                .statusCode(400)
                .body("errors[0].field", equalTo("divergence"));
        assertThat(Db.queryString("select state from jobs where id = ?", r.job)).isEqualTo("RUNNING");
        assertThat(Db.queryLong(
                        "select count(*) from job_events where job_id = ? and divergence_step is not null", r.job))
                .isZero();
    }

    private record Running(Fixtures.Token token, long job, long attempt, String lease) {}

    private static Running running() {
        String pool = Fixtures.pool();
        Fixtures.Token token = Fixtures.runner();
        long runner = Fixtures.registerRunner(token, pool, "diverging");
        long job = Fixtures.submit(Spec.gpt(Fixtures.project(), pool));
        long attempt = Db.makeRunning(job, runner);
        String lease = Db.queryString("select lease_token::text from attempts where id = ?", attempt);
        return new Running(token, job, attempt, lease);
    }

    private static io.restassured.response.ValidatableResponse end(Running r, Map<String, Object> divergence) {
        return as(r.token.secret())
                .body(Map.of(
                        "leaseToken",
                        r.lease,
                        "outcome",
                        "FAILED",
                        "message",
                        "training diverged",
                        "divergence",
                        divergence))
                .post("/api/v1/runner/attempts/" + r.attempt + ":end")
                .then();
    }
}
