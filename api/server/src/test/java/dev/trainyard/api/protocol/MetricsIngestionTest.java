package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.trainyard.api.jobs.JobSignals;
import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * What runners and users rely on from {@code POST /runner/attempts/{id}/metrics}: each acknowledged point is
 * stored once (a re-sent batch overwrites), a batch for an attempt that is not current writes nothing, the job's
 * progress advances, the metrics stream is signalled, and the answer carries the attempt's stop request.
 */
@QuarkusTest
class MetricsIngestionTest {
    Fixtures.Token runnerToken;
    long job;
    long attempt;
    String lease;

    @BeforeEach
    void aRunningAttempt() {
        String pool = Fixtures.pool();
        // steps up to 110 are reported below; a runner may report only steps the job has
        job = Fixtures.submit(Spec.gpt(Fixtures.project(), pool).set("training.steps", 200));
        runnerToken = Fixtures.runner();
        attempt = Db.makeRunning(job, Db.insertRunner(pool, 1, "ACTIVE", runnerToken.id()));
        lease = Db.queryString("select lease_token::text from attempts where id = ?", attempt);
    }

    @Test
    void aBatchIsStoredAndAdvancesTheJobAndAReSentBatchOverwritesInsteadOfDuplicating() {
        post(lease, points(0, 50, 1.0))
                .statusCode(200)
                .body("attemptId", equalTo((int) attempt))
                .body("state", equalTo("RUNNING"))
                .body("stop", nullValue());

        assertThat(count()).isEqualTo(100);
        assertThat(lastStep()).isEqualTo(49);

        post(lease, points(0, 50, 2.0)).statusCode(200);

        assertThat(count()).isEqualTo(100);
        assertThat(Db.queryLong("select count(*) from metric_points where job_id = ? and value = 2.0", job))
                .isEqualTo(100);
        assertThat(Db.queryLong("select count(distinct attempt_id) from metric_points where job_id = ?", job))
                .isEqualTo(1);
    }

    @Test
    void aPointRepeatedInOneBatchKeepsItsLastValue() {
        List<Map<String, Object>> points = new ArrayList<>(points(0, 3, 1.0));
        points.add(Map.of("step", 1, "name", "train/loss", "value", 7.5));
        points.add(Map.of("step", 1, "name", "train/loss", "value", 8.5));

        post(lease, points).statusCode(200);

        assertThat(count()).isEqualTo(6);
        assertThat(Db.queryString(
                        "select value::text from metric_points where job_id = ? and name = 'train/loss'"
                                + " and step = 1",
                        job))
                .isEqualTo("8.5");
    }

    @Test
    void progressNeverMovesBackForAnOlderBatch() {
        post(lease, points(100, 10, 1.0)).statusCode(200);
        post(lease, points(0, 10, 1.0)).statusCode(200);

        assertThat(lastStep()).isEqualTo(109);
        assertThat(count()).isEqualTo(40);
    }

    @Test
    void theAnswerCarriesTheStopTheRunnerMustCarryOut() {
        Db.update("update attempts set stop_reason = 'CANCELLED', stop_requested_at = now() where id = ?", attempt);

        post(lease, points(0, 1, 1.0)).statusCode(200).body("stop", equalTo("CANCEL"));
    }

    @Test
    void aWrongLeaseOrAnEndedAttemptIsRefusedAndWritesNothing() {
        post(UUID.randomUUID().toString(), points(0, 5, 1.0)).statusCode(409).contentType("application/problem+json");
        endAttempt(attempt);
        post(lease, points(0, 5, 1.0)).statusCode(409).contentType("application/problem+json");

        assertThat(count()).isZero();
        assertThat(lastStep()).isZero();
    }

    /**
     * The fence holds across the race: a batch that arrives while the attempt is being ended waits for the end
     * and is then refused, rather than reading the attempt as live and writing after it ended.
     */
    @Test
    void aBatchRacingTheEndOfItsAttemptWaitsAndIsRefused() throws Exception {
        try (Connection ender = connect()) {
            ender.setAutoCommit(false);
            execute(ender, "select id from attempts where id = ? and ended_at is null for update", attempt);
            CompletableFuture<Integer> batch = CompletableFuture.supplyAsync(
                    () -> post(lease, points(0, 5, 1.0)).extract().statusCode());
            awaitBlockedOnAttempt(batch);
            execute(
                    ender,
                    "update attempts set state = 'ENDED', ended_at = now(), end_reason = 'LOST' where id = ?",
                    attempt);
            ender.commit();

            assertThat(batch.get(30, TimeUnit.SECONDS)).isEqualTo(409);
        }
        assertThat(count()).isZero();
    }

    @Test
    void eachBatchSignalsTheJobsMetricsStream() throws Exception {
        try (Connection listener = connect()) {
            execute(listener, "listen " + JobSignals.METRICS_CHANNEL);

            post(lease, points(0, 5, 1.0)).statusCode(200);

            PGNotification[] received = listener.unwrap(PGConnection.class).getNotifications(10_000);
            assertThat(received)
                    .isNotNull()
                    .extracting(PGNotification::getParameter)
                    .contains(Long.toString(job));
        }
    }

    @Test
    void deletingAJobDeletesItsPoints() {
        post(lease, points(0, 5, 1.0)).statusCode(200);

        Db.update("delete from jobs where id = ?", job);

        assertThat(count()).isZero();
    }

    private ValidatableResponse post(String leaseToken, List<Map<String, Object>> points) {
        return as(runnerToken.secret())
                .body(Map.of("leaseToken", leaseToken, "points", points))
                .post("/api/v1/runner/attempts/" + attempt + "/metrics")
                .then();
    }

    /** Two series over {@code steps} consecutive steps from {@code first}, every value {@code value}. */
    private static List<Map<String, Object>> points(long first, int steps, double value) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (long s = first; s < first + steps; s++) {
            out.add(Map.of("step", s, "name", "train/loss", "value", value));
            out.add(Map.of("step", s, "name", "train/lr", "value", value));
        }
        return out;
    }

    private long count() {
        return Db.queryLong("select count(*) from metric_points where job_id = ?", job);
    }

    private long lastStep() {
        return Db.queryLong("select last_step from jobs where id = ?", job);
    }

    private static void endAttempt(long attemptId) {
        Db.update("update attempts set state = 'ENDED', ended_at = now(), end_reason = 'LOST' where id = ?", attemptId);
    }

    /** Waits until some backend waits for a row lock on the attempts table, or the batch has already answered. */
    private static void awaitBlockedOnAttempt(CompletableFuture<Integer> batch) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && !batch.isDone()) {
            long waiting = Db.queryLong("""
                    select count(*) from pg_stat_activity
                     where wait_event_type = 'Lock' and query like '%from attempts a%' and pid <> pg_backend_pid()""");
            if (waiting > 0) {
                return;
            }
            Thread.sleep(20);
        }
    }

    private static Connection connect() throws SQLException {
        String url = ConfigProvider.getConfig().getValue("quarkus.datasource.jdbc.url", String.class);
        String user = ConfigProvider.getConfig()
                .getOptionalValue("quarkus.datasource.username", String.class)
                .orElse("postgres");
        return DriverManager.getConnection(url, user, "");
    }

    private static void execute(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.execute();
        }
    }
}
