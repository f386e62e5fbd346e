package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.ValidatableResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sharded checkpoints of a data-parallel attempt over two runners: each rank's runner uploads its own shard, each
 * verified against its digest; the checkpoint is listed, resumed from and counted by retention only once every
 * shard has arrived; a shard comes only from the runner holding its rank, and only to the current attempt.
 */
@QuarkusTest
class ShardedCheckpointUploadTest {
    long job;
    Fixtures.Token tokenA;
    Fixtures.Token tokenB;
    long runnerA;
    long runnerB;
    long attempt;
    String lease;

    @BeforeEach
    void twoRanksOfOneAttemptOnTwoRunners() {
        String pool = Fixtures.pool();
        job = Fixtures.submit(Spec.gpt(Fixtures.project(), pool)
                .set("resources.gpus", 2)
                .set("resources.multiNode", true)
                .set("parallelism.dataParallel", 2)
                .set("training.steps", 40)
                .set("checkpoint.keepLast", 1));
        tokenA = Fixtures.runner();
        tokenB = Fixtures.runner();
        runnerA = Fixtures.registerRunner(tokenA, pool, "rank0");
        runnerB = Fixtures.registerRunner(tokenB, pool, "rank1");
        lease = UUID.randomUUID().toString();
        attempt = startAttempt(1, lease);
    }

    private long startAttempt(int number, String leaseToken) {
        Db.update("update jobs set state = 'RUNNING', started_at = now(), pending_reason = null where id = ?", job);
        long id = Db.queryLong("""
                insert into attempts (job_id, number, runner_id, gpus, lease_token, state, started_at)
                values (?, ?, ?, 2, cast(? as uuid), 'RUNNING', now()) returning id""", job, number, runnerA, leaseToken);
        Db.update(
                "insert into attempt_runners (attempt_id, rank, runner_id, gpus) values (?, 0, ?, 1), (?, 1, ?, 1)",
                id,
                runnerA,
                id,
                runnerB);
        return id;
    }

    @Test
    void aShardedCheckpointIsListedAndResumedFromOnlyOnceEveryShardArrived() {
        upload(tokenA, 10, 0, "rank zero's half")
                .statusCode(200)
                .body("complete", equalTo(false))
                .body("shardCount", equalTo(2))
                .body("shards.size()", equalTo(1));
        assertThat(listed()).isEmpty();

        JsonPath whole = upload(tokenB, 10, 1, "rank one's half")
                .statusCode(200)
                .body("complete", equalTo(true))
                .extract()
                .jsonPath();
        long checkpoint = whole.getLong("id");
        assertThat(whole.getLong("sizeBytes")).isEqualTo(("rank zero's half" + "rank one's half").length());
        assertThat(listed()).singleElement().satisfies(c -> {
            assertThat(c.get("shardCount")).isEqualTo(2);
            assertThat((List<?>) c.get("shards")).hasSize(2);
        });

        // a later attempt resumes from it and is told every shard, each downloadable with its own digest
        Db.update(
                "update attempts set state = 'ENDED', ended_at = now(), end_reason = 'STOPPED' where id = ?", attempt);
        String nextLease = UUID.randomUUID().toString();
        long next = startAttempt(2, nextLease);
        Db.update("update attempts set resume_checkpoint_id = ? where id = ?", checkpoint, next);
        JsonPath resume = assignment(tokenB, runnerB, next);
        assertThat(resume.getInt("resumeFrom.shardCount")).isEqualTo(2);
        assertThat(resume.getList("resumeFrom.shards.sha256"))
                .containsExactly(sha256("rank zero's half"), sha256("rank one's half"));
        String content = "/api/v1/runner/checkpoints/" + checkpoint + "/content";
        assertThat(as(tokenB.secret())
                        .header("X-Lease-Token", nextLease)
                        .get(content + "?shard=1")
                        .then()
                        .statusCode(200)
                        .header("X-Checksum-Sha256", sha256("rank one's half"))
                        .extract()
                        .asString())
                .isEqualTo("rank one's half");
        problem(
                        as(tokenB.secret())
                                .header("X-Lease-Token", nextLease)
                                .get(content)
                                .then(),
                        400)
                .body("detail", containsString("sharded into 2 files"));
        problem(
                asAdmin()
                        .get("/api/v1/jobs/" + job + "/checkpoints/" + checkpoint + "/content")
                        .then(),
                400);
        assertThat(asAdmin()
                        .get("/api/v1/jobs/" + job + "/checkpoints/" + checkpoint + "/content?shard=0")
                        .then()
                        .statusCode(200)
                        .extract()
                        .asString())
                .isEqualTo("rank zero's half");
    }

    @Test
    void retentionCountsAShardedCheckpointOnlyOnceItIsComplete() {
        upload(tokenA, 10, 0, "a0").statusCode(200);
        upload(tokenB, 10, 1, "b0").statusCode(200);
        // keepLast 1: step 20 missing a shard must not push out the complete step 10
        upload(tokenA, 20, 0, "a1").statusCode(200);
        assertThat(listed()).extracting(c -> c.get("step")).containsExactly(10);

        upload(tokenB, 20, 1, "b1").statusCode(200);
        assertThat(listed()).extracting(c -> c.get("step")).containsExactly(20);
        assertThat(Db.queryString("select state from checkpoints where attempt_id = ? and step = 10", attempt))
                .isEqualTo("DELETED");
    }

    @Test
    void aShardComesOnlyFromTheRunnerOfItsRankAndOnlyToTheCurrentAttempt() {
        problem(upload(tokenB, 10, 0, "forged"), 403).body("detail", containsString("rank 0"));
        problem(upload(tokenA, 10, 0, 3, "three shards"), 400).body("detail", containsString("2 data-parallel ranks"));

        upload(tokenA, 10, 0, "honest").statusCode(200);
        // the same shard again: a retry of the same bytes is harmless, other bytes are refused
        upload(tokenA, 10, 0, "honest").statusCode(200).body("shards.size()", equalTo(1));
        problem(upload(tokenA, 10, 0, "changed"), 409).body("detail", containsString("stored already"));

        // once a newer attempt took over, the old one's late shard is refused and completes nothing
        Db.update("update attempts set state = 'ENDED', ended_at = now(), end_reason = 'LOST' where id = ?", attempt);
        startAttempt(2, UUID.randomUUID().toString());
        problem(upload(tokenB, 10, 1, "late"), 409).body("type", containsString("stale-attempt"));
        assertThat(Db.queryLong(
                        "select count(*) from checkpoints where attempt_id = ? and state = 'COMPLETE'", attempt))
                .isZero();
    }

    @Test
    void aShardThatDoesNotMatchItsDigestIsRefusedAndNothingIsStored() {
        byte[] body = "shard bytes".getBytes(StandardCharsets.UTF_8);
        problem(
                        as(tokenA.secret())
                                .contentType("application/octet-stream")
                                .header("X-Lease-Token", lease)
                                .header("X-Checksum-Sha256", sha256("other bytes"))
                                .body(body)
                                .put(path(10, 0, 2))
                                .then(),
                        400)
                .body("type", containsString("checksum-mismatch"));

        assertThat(Db.queryLong("select count(*) from checkpoints where attempt_id = ?", attempt))
                .isZero();
        problem(upload(tokenA, 10, 2, 2, "no such shard"), 400);
    }

    private ValidatableResponse upload(Fixtures.Token token, long step, int shard, String content) {
        return upload(token, step, shard, 2, content);
    }

    private ValidatableResponse upload(Fixtures.Token token, long step, int shard, int shards, String content) {
        return as(token.secret())
                .contentType("application/octet-stream")
                .header("X-Lease-Token", lease)
                .header("X-Checksum-Sha256", sha256(content))
                .body(content.getBytes(StandardCharsets.UTF_8))
                .put(path(step, shard, shards))
                .then();
    }

    private String path(long step, int shard, int shards) {
        return "/api/v1/runner/attempts/" + attempt + "/checkpoints/" + step + "?shard=" + shard + "&shards=" + shards;
    }

    private List<Map<String, Object>> listed() {
        return asAdmin()
                .get("/api/v1/jobs/" + job + "/checkpoints")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("$");
    }

    private static JsonPath assignment(Fixtures.Token token, long runner, long attemptId) {
        JsonPath answer = as(token.secret())
                .body(Map.of("runnerId", runner, "waitMs", 0))
                .post("/api/v1/runner/heartbeat")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        return new JsonPath(answer.prettify()).setRootPath("assignments.find { it.attemptId == " + attemptId + " }");
    }

    private static String sha256(String content) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
