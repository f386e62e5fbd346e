package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The final export travels like a checkpoint: each file is verified against its declared SHA-256 and recorded
 * for the job; an attempt may end SUCCEEDED only after its weights and config are stored; the job's members and
 * admins list and download it, other projects see nothing.
 */
@QuarkusTest
class ExportUploadsTest {
    private static final byte[] WEIGHTS = "pretend safetensors".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CONFIG = "{\"model\":{}}".getBytes(StandardCharsets.UTF_8);

    /** A running attempt of a job of its own project, on a runner of its own. */
    record Running(String project, Fixtures.Token runner, long job, long attempt, String lease) {
        static Running start() {
            String project = Fixtures.project();
            String pool = Fixtures.pool();
            Fixtures.Token runner = Fixtures.runner();
            long runnerId = Db.insertRunner(pool, 1, "ACTIVE", runner.id());
            long job = Fixtures.submit(Spec.gpt(project, pool));
            long attempt = Db.makeRunning(job, runnerId);
            String lease = Db.queryString("select lease_token::text from attempts where id = ?", attempt);
            return new Running(project, runner, job, attempt, lease);
        }

        ValidatableResponse upload(String name, byte[] body, String sha256) {
            return as(runner.secret())
                    .contentType("application/octet-stream")
                    .header("X-Lease-Token", lease)
                    .header("X-Checksum-Sha256", sha256)
                    .body(body)
                    .put("/api/v1/runner/attempts/" + attempt + "/export/" + name)
                    .then();
        }

        ValidatableResponse end(String outcome) {
            return as(runner.secret())
                    .body(Map.of("leaseToken", lease, "outcome", outcome, "finalStep", 1))
                    .post("/api/v1/runner/attempts/" + attempt + ":end")
                    .then();
        }
    }

    @Test
    void anAttemptEndsSucceededOnlyAfterItsExportIsStoredAndThenTheJobListsAndServesIt() {
        Running r = Running.start();

        problem(r.end("SUCCEEDED"), 409).body("detail", containsString("model.safetensors, config.json"));
        r.upload("model.safetensors", WEIGHTS, sha256(WEIGHTS)).statusCode(200).body("sizeBytes", equalTo(19));
        problem(r.end("SUCCEEDED"), 409).body("detail", containsString("missing: config.json"));
        assertThat(Db.queryString("select state from jobs where id = ?", r.job()))
                .isEqualTo("RUNNING");
        r.upload("config.json", CONFIG, sha256(CONFIG)).statusCode(200);

        r.end("SUCCEEDED").statusCode(200);
        assertThat(Db.queryString("select state from jobs where id = ?", r.job()))
                .isEqualTo("SUCCEEDED");

        asAdmin()
                .get("/api/v1/jobs/" + r.job() + "/export")
                .then()
                .statusCode(200)
                .body("files.name", org.hamcrest.Matchers.contains("config.json", "model.safetensors"))
                .body("files[1].sha256", equalTo(sha256(WEIGHTS)))
                .body("files[1].attemptId", equalTo((int) r.attempt()));
        byte[] downloaded = as(Fixtures.member(r.project()).secret())
                .get("/api/v1/jobs/" + r.job() + "/export/model.safetensors")
                .then()
                .statusCode(200)
                .header("X-Checksum-Sha256", sha256(WEIGHTS))
                .extract()
                .asByteArray();
        assertThat(downloaded).isEqualTo(WEIGHTS);
    }

    @Test
    void aWrongUploadIsRefusedWithAProblemAndStoresNothing() {
        Running r = Running.start();

        problem(r.upload("model.safetensors", WEIGHTS, sha256(CONFIG)), 400)
                .body("type", equalTo("/problems/checksum-mismatch"));
        problem(r.upload("model.safetensors", new byte[0], sha256(new byte[0])), 400);
        problem(r.upload("model.safetensors", WEIGHTS, "not-a-digest"), 400);
        problem(r.upload("weights.bin", WEIGHTS, sha256(WEIGHTS)), 400).body("detail", containsString("name"));
        problem(
                        as(r.runner().secret())
                                .contentType("application/octet-stream")
                                .header(
                                        "X-Lease-Token",
                                        java.util.UUID.randomUUID().toString())
                                .header("X-Checksum-Sha256", sha256(WEIGHTS))
                                .body(WEIGHTS)
                                .put("/api/v1/runner/attempts/" + r.attempt() + "/export/model.safetensors")
                                .then(),
                        409)
                .body("type", equalTo("/problems/stale-attempt"));

        asAdmin()
                .get("/api/v1/jobs/" + r.job() + "/export")
                .then()
                .statusCode(200)
                .body("files", empty());
        assertThat(Db.queryString("select count(*)::text from job_exports where job_id = ?", r.job()))
                .isEqualTo("0");
    }

    @Test
    void anotherProjectsMemberAndUnknownNamesGetNotFound() {
        Running r = Running.start();
        r.upload("model.safetensors", WEIGHTS, sha256(WEIGHTS)).statusCode(200);
        String stranger = Fixtures.member(Fixtures.project()).secret();

        problem(as(stranger).get("/api/v1/jobs/" + r.job() + "/export").then(), 404);
        problem(
                as(stranger)
                        .get("/api/v1/jobs/" + r.job() + "/export/model.safetensors")
                        .then(),
                404);
        problem(asAdmin().get("/api/v1/jobs/" + r.job() + "/export/config.json").then(), 404);
        problem(asAdmin().get("/api/v1/jobs/" + r.job() + "/export/a%00b").then(), 404);
        problem(asAdmin().get("/api/v1/jobs/987654321/export").then(), 404);
    }

    @Test
    void aFailedEndNeedsNoExport() {
        Running r = Running.start();
        r.end("FAILED").statusCode(200);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
