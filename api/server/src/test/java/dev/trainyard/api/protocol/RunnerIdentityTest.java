package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hijacks of issue 12 tried with a runner token of its own: each runner token acts only as its own runner,
 * reaches only the attempts assigned to that runner (whatever lease token it learned), reads only checkpoints of
 * its own current attempt's job, and never takes over another token's runner by registering under its name.
 */
@QuarkusTest
class RunnerIdentityTest {
    String pool;
    Fixtures.Token victimToken;
    Fixtures.Token thiefToken;
    String victimName;
    long victim;
    long thief;
    long job;
    long attempt;
    String lease;

    @BeforeEach
    void aVictimRunnerTrainsAJobAndAThiefRunnerIsIdle() {
        pool = Fixtures.pool();
        victimToken = Fixtures.runner();
        thiefToken = Fixtures.runner();
        victimName = Names.unique("victim");
        victim = register(victimToken, victimName)
                .statusCode(200)
                .extract()
                .jsonPath()
                .getLong("runnerId");
        thief = register(thiefToken, Names.unique("thief"))
                .statusCode(200)
                .extract()
                .jsonPath()
                .getLong("runnerId");
        job = Fixtures.submit(Spec.gpt(Fixtures.project(), pool));
        attempt = Db.makeRunning(job, victim);
        lease = Db.queryString("select lease_token::text from attempts where id = ?", attempt);
    }

    @Test
    void aHeartbeatNamingAnotherRunnerIsRefusedWithoutItsAssignments() {
        problem(heartbeat(thiefToken, victim), 403)
                .body("detail", containsString("not the runner of this token"))
                .body(not(containsString(lease)));

        heartbeat(victimToken, victim).statusCode(200).body(containsString(lease));
        heartbeat(thiefToken, thief).statusCode(200).body(not(containsString(lease)));
    }

    @Test
    void aLeaseTokenOfAnotherRunnersAttemptWritesNothingIntoIt() {
        String base = "/api/v1/runner/attempts/" + attempt;
        Map<String, Object> metrics =
                Map.of("leaseToken", lease, "points", List.of(Map.of("name", "loss", "step", 1, "value", 9.0)));
        Map<String, Object> logs = Map.of(
                "leaseToken", lease, "lines", List.of(Map.of("at", Instant.now().toString(), "line", "forged")));
        for (var call : List.of(
                Map.entry(base + ":start", Map.<String, Object>of("leaseToken", lease)),
                Map.entry(base + "/metrics", metrics),
                Map.entry(base + "/logs", logs),
                Map.entry(base + ":rendezvous", Map.<String, Object>of("leaseToken", lease, "host", "h", "port", 1)),
                Map.entry(base + ":end", Map.<String, Object>of("leaseToken", lease, "outcome", "FAILED")))) {
            problem(
                            as(thiefToken.secret())
                                    .body(call.getValue())
                                    .post(call.getKey())
                                    .then(),
                            403)
                    .body("detail", containsString("not assigned to the runner of this token"));
        }
        problem(upload(thiefToken, "forged".getBytes()), 403);

        assertThat(Db.queryLong("select count(*) from metric_points where attempt_id = ?", attempt))
                .isZero();
        assertThat(Db.queryLong("select count(*) from job_logs where attempt_id = ?", attempt))
                .isZero();
        assertThat(Db.queryLong("select count(*) from checkpoints where attempt_id = ?", attempt))
                .isZero();
        assertThat(Db.queryString("select state from attempts where id = ?", attempt))
                .isEqualTo("RUNNING");
        assertThat(Db.queryString("select rendezvous_host from attempts where id = ?", attempt))
                .isNull();
        // the honest runner is unaffected
        as(victimToken.secret()).body(metrics).post(base + "/metrics").then().statusCode(200);
    }

    @Test
    void aCheckpointIsReadOnlyWithALeaseOfItsJobOnTheCallersRunner() {
        long checkpoint = upload(victimToken, "weights".getBytes())
                .statusCode(200)
                .extract()
                .jsonPath()
                .getLong("id");
        String path = "/api/v1/runner/checkpoints/" + checkpoint + "/content";

        problem(as(thiefToken.secret()).get(path).then(), 400);
        problem(as(thiefToken.secret()).header("X-Lease-Token", lease).get(path).then(), 403);
        // the thief's own live attempt of another job is no key to this job's checkpoints
        long otherJob = Fixtures.submit(Spec.gpt(Fixtures.project(), pool));
        long own = Db.makeRunning(otherJob, thief);
        String ownLease = Db.queryString("select lease_token::text from attempts where id = ?", own);
        problem(
                as(thiefToken.secret())
                        .header("X-Lease-Token", ownLease)
                        .get(path)
                        .then(),
                404);
        // nor is a lease that is no attempt's
        problem(
                as(thiefToken.secret())
                        .header("X-Lease-Token", UUID.randomUUID().toString())
                        .get(path)
                        .then(),
                403);

        byte[] content = as(victimToken.secret())
                .header("X-Lease-Token", lease)
                .get(path)
                .then()
                .statusCode(200)
                .extract()
                .asByteArray();
        assertThat(content).isEqualTo("weights".getBytes());
    }

    @Test
    void registeringUnderAnotherRunnersNameNeverTakesItOver() {
        problem(register(Fixtures.runner(), victimName), 403).body("detail", containsString("another runner token"));
        problem(register(thiefToken, victimName), 403);

        assertThat(Db.queryLong("select token_id from runners where id = ?", victim))
                .isEqualTo(victimToken.id());
        assertThat(Db.queryString("select state from attempts where id = ?", attempt))
                .isEqualTo("RUNNING");
        heartbeat(victimToken, victim).statusCode(200).body(containsString(lease));
    }

    @Test
    void aTokenRegistersOneRunnerOnly() {
        problem(register(victimToken, Names.unique("second")), 403)
                .body("detail", containsString("belongs to runner '" + victimName + "'"));

        assertThat(Db.queryLong("select count(*) from runners where token_id = ?", victimToken.id()))
                .isEqualTo(1);
    }

    @Test
    void aRunnerRegistersItselfAgainAfterItWasJudgedLost() {
        Db.update("update runners set state = 'LOST' where id = ?", victim);
        problem(heartbeat(victimToken, victim), 409);

        assertThat(register(victimToken, victimName)
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getLong("runnerId"))
                .isEqualTo(victim);
        heartbeat(victimToken, victim).statusCode(200);
    }

    @Test
    void anAdminHandsARunnerToANewTokenByRevokingItsOldOne() {
        asAdmin().delete("/api/v1/tokens/" + victimToken.id()).then().statusCode(200);
        Fixtures.Token replacement = Fixtures.runner();

        assertThat(register(replacement, victimName)
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getLong("runnerId"))
                .isEqualTo(victim);
        heartbeat(replacement, victim).statusCode(200);
    }

    private ValidatableResponse register(Fixtures.Token token, String name) {
        return Fixtures.registration(token, name, pool);
    }

    private static ValidatableResponse heartbeat(Fixtures.Token token, long runner) {
        return as(token.secret())
                .body(Map.of("runnerId", runner, "waitMs", 0))
                .post("/api/v1/runner/heartbeat")
                .then();
    }

    private ValidatableResponse upload(Fixtures.Token token, byte[] body) {
        return as(token.secret())
                .contentType("application/octet-stream")
                .header("X-Lease-Token", lease)
                .header("X-Checksum-Sha256", sha256(body))
                .body(body)
                .put("/api/v1/runner/attempts/" + attempt + "/checkpoints/10")
                .then();
    }

    private static String sha256(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
