package dev.trainyard.api.scheduling;

import static dev.trainyard.api.scheduling.Rows.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.api.lifecycle.EventReason;
import dev.trainyard.api.lifecycle.JobMove;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.api.lifecycle.JobTransitions;
import dev.trainyard.scheduler.Decision;
import dev.trainyard.scheduler.Placement;
import dev.trainyard.scheduler.RunnerNode;
import dev.trainyard.scheduler.Scheduler;
import dev.trainyard.scheduler.SchedulerPolicy;
import java.sql.Connection;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A user cancels a queued job while the scheduler is placing it: the cancel wins and no GPU is taken. */
class ConcurrentCancelTest {
    private final ExecutorService threads = Executors.newSingleThreadExecutor();
    private Connection c;
    private Rows rows;
    private long pool;
    private long runner;
    private long job;

    @BeforeEach
    void open() throws Exception {
        SchedulingDatabase.empty();
        c = SchedulingDatabase.connect();
        rows = new Rows(c);
        pool = rows.pool("a100", "2");
        long project = rows.project(null);
        runner = rows.runner(pool).gpus(8).insert();
        job = rows.job(project).pool(pool).gpus(4).insert();
    }

    @AfterEach
    void close() throws Exception {
        threads.shutdownNow();
        c.close();
    }

    /** The API's cancel of a waiting job, as its service asks the lifecycle for it. */
    private static int cancel(Connection own, long jobId, long version, Instant now) throws Exception {
        return JobTransitions.move(
                        own,
                        JobMove.of(
                                        jobId,
                                        JobState.QUEUED,
                                        JobState.CANCELLED,
                                        EventReason.CANCELLED_BY_USER,
                                        "Cancelled by test")
                                .atVersion(version),
                        now)
                ? 1
                : 0;
    }

    private DecisionApplier.Applied apply(Connection own, Decision decision, SnapshotLoader.Loaded loaded)
            throws Exception {
        own.setAutoCommit(false);
        DecisionApplier.Applied applied =
                DecisionApplier.apply(own, decision, loaded.storedPending(), T0.plusSeconds(1), UUID::randomUUID);
        own.commit();
        return applied;
    }

    private Decision decided(SnapshotLoader.Loaded loaded) {
        Decision decision = new Scheduler().decide(loaded.snapshot(), SchedulerPolicy.defaults());
        assertThat(decision.placements()).extracting(Placement::jobId).containsExactly(job);
        return decision;
    }

    @Test
    void aCancelCommittedBetweenSnapshotAndApplyWins() throws Exception {
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);
        Decision decision = decided(loaded);
        assertThat(cancel(c, job, 0, T0)).isEqualTo(1);

        DecisionApplier.Applied applied;
        try (Connection scheduler = SchedulingDatabase.connect()) {
            applied = apply(scheduler, decision, loaded);
        }

        assertThat(applied.placed()).isZero();
        assertThat(applied.skipped()).isEqualTo(1);
        assertCancelledWithNothingPlaced();
    }

    @Test
    void aCancelInFlightDuringApplyWinsOnceItCommits() throws Exception {
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);
        Decision decision = decided(loaded);
        c.setAutoCommit(false);
        assertThat(cancel(c, job, 0, T0)).isEqualTo(1);

        // The scheduler's guarded update waits for the cancel's row lock, then finds the job changed.
        Future<DecisionApplier.Applied> applying = threads.submit(() -> {
            try (Connection scheduler = SchedulingDatabase.connect()) {
                return apply(scheduler, decision, loaded);
            }
        });
        assertThatThrownBy(() -> applying.get(500, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        c.commit();
        c.setAutoCommit(true);
        DecisionApplier.Applied applied = applying.get(10, TimeUnit.SECONDS);

        assertThat(applied.placed()).isZero();
        assertThat(applied.skipped()).isEqualTo(1);
        assertCancelledWithNothingPlaced();
    }

    private void assertCancelledWithNothingPlaced() throws Exception {
        Rows.JobRow row = rows.jobRow(job);
        assertThat(row.state()).isEqualTo("CANCELLED");
        assertThat(row.version()).isEqualTo(1);
        assertThat(row.finishedAt()).isEqualTo(T0);
        assertThat(rows.count("select count(*) from attempts")).isZero();
        assertThat(rows.count("select count(*) from attempt_runners")).isZero();
        assertThat(rows.events(job)).containsExactly("QUEUED>CANCELLED:CANCELLED_BY_USER");
        assertThat(SnapshotLoader.load(c, T0.plusSeconds(2), Rows.HEARD_WITHIN)
                        .snapshot()
                        .runners())
                .containsExactly(new RunnerNode(runner, pool, 8, 8, true));
    }
}
