package dev.trainyard.api.scheduling;

import static dev.trainyard.api.scheduling.Rows.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.lifecycle.AttemptEnder;
import dev.trainyard.scheduler.BudgetStop;
import dev.trainyard.scheduler.BudgetStopReason;
import dev.trainyard.scheduler.Decision;
import dev.trainyard.scheduler.PendingReason;
import dev.trainyard.scheduler.Placement;
import dev.trainyard.scheduler.Preemption;
import dev.trainyard.scheduler.PreemptionReason;
import dev.trainyard.scheduler.RunnerNode;
import dev.trainyard.scheduler.Scheduler;
import dev.trainyard.scheduler.SchedulerPolicy;
import dev.trainyard.scheduler.WaitingJob;
import java.sql.Connection;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Applying a decision writes exactly what it decided, and nothing over rows that changed since the snapshot. */
class DecisionApplierTest {
    private static final UUID LEASE_TOKEN = UUID.fromString("00000000-0000-0000-0000-00000000abcd");

    private Connection c;
    private Rows rows;

    @BeforeEach
    void open() throws Exception {
        SchedulingDatabase.empty();
        c = SchedulingDatabase.connect();
        rows = new Rows(c);
    }

    @AfterEach
    void close() throws Exception {
        c.close();
    }

    private DecisionApplier.Applied apply(Decision decision, SnapshotLoader.Loaded loaded) throws Exception {
        c.setAutoCommit(false);
        try {
            DecisionApplier.Applied applied =
                    DecisionApplier.apply(c, decision, loaded.storedPending(), T0, () -> LEASE_TOKEN);
            c.commit();
            return applied;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static Decision decide(SnapshotLoader.Loaded loaded) {
        return new Scheduler().decide(loaded.snapshot(), SchedulerPolicy.defaults());
    }

    @Test
    void aPlacedJobIsScheduledWithItsAttemptItsRunnersAndAnEvent() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project("100");
        long runner = rows.runner(pool).gpus(8).insert();
        long job = rows.job(project).pool(pool).gpus(2).insert();
        Jdbc.update(
                c, "update jobs set pending_reason = 'WAITING_FOR_SCHEDULER', queue_position = 1 where id = ?", job);
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);
        Decision decision = decide(loaded);
        assertThat(decision.placements()).extracting(Placement::jobId).containsExactly(job);

        DecisionApplier.Applied applied = apply(decision, loaded);

        assertThat(applied.placed()).isEqualTo(1);
        assertThat(applied.skipped()).isZero();
        Rows.JobRow row = rows.jobRow(job);
        assertThat(row.state()).isEqualTo("SCHEDULED");
        assertThat(row.version()).isEqualTo(1);
        assertThat(row.pendingReason()).isNull();
        assertThat(row.queuePosition()).isNull();
        long attempt = rows.count("select id from attempts where job_id = ?", job);
        Rows.AttemptRow a = rows.attemptRow(attempt);
        assertThat(a.number()).isEqualTo(1);
        assertThat(a.runnerId()).isEqualTo(runner);
        assertThat(a.gpus()).isEqualTo(2);
        assertThat(a.state()).isEqualTo("STARTING");
        assertThat(a.costAccountedTo()).isEqualTo(T0);
        assertThat(rows.text("select lease_token::text from attempts where id = ?", attempt))
                .isEqualTo(LEASE_TOKEN.toString());
        assertThat(rows.text(
                        "select string_agg(rank || ':' || runner_id || ':' || gpus, ',') from attempt_runners"
                                + " where attempt_id = ?",
                        attempt))
                .isEqualTo("0:" + runner + ":2");
        assertThat(rows.events(job)).containsExactly("QUEUED>SCHEDULED:PLACED");
        // The next cycle sees the GPUs taken and the job gone from the queue.
        SnapshotLoader.Loaded next = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);
        assertThat(next.snapshot().queue()).isEmpty();
        assertThat(next.snapshot().runners()).containsExactly(new RunnerNode(runner, pool, 8, 6, true));
    }

    @Test
    void aGangPlacementRecordsEveryRunnerWithItsRank() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project(null);
        long r1 = rows.runner(pool).gpus(8).insert();
        long r2 = rows.runner(pool).gpus(8).insert();
        long job = rows.job(project).pool(pool).gpus(12).multiNode().insert();
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);
        Decision decision = decide(loaded);
        assertThat(decision.placements()).hasSize(1);

        apply(decision, loaded);

        long attempt = rows.count("select id from attempts where job_id = ?", job);
        assertThat(rows.attemptRow(attempt).gpus()).isEqualTo(12);
        assertThat(rows.count("select sum(gpus) from attempt_runners where attempt_id = ?", attempt))
                .isEqualTo(12);
        assertThat(rows.count("select count(*) from attempt_runners where attempt_id = ?", attempt))
                .isEqualTo(2);
        assertThat(rows.count("select runner_id from attempt_runners where attempt_id = ? and rank = 0", attempt))
                .isEqualTo(rows.attemptRow(attempt).runnerId());
        assertThat(SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN).snapshot().runners())
                .extracting(RunnerNode::freeGpus)
                .containsExactlyInAnyOrder(0, 4);
        assertThat(List.of(r1, r2)).contains(rows.attemptRow(attempt).runnerId());
    }

    @Test
    void aRequeuedJobResumesFromItsLatestCompleteCheckpoint() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project(null);
        long runner = rows.runner(pool).gpus(8).insert();
        long job = rows.job(project).pool(pool).gpus(2).insert();
        long lost = rows.attempt(job).on(runner, 2).ended(T0.minusSeconds(30)).insert();
        long older = checkpoint(job, lost, 100, true);
        long latest = checkpoint(job, lost, 200, true);
        checkpoint(job, lost, 300, false);
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);

        apply(decide(loaded), loaded);

        long attempt = rows.count("select id from attempts where job_id = ? and ended_at is null", job);
        assertThat(rows.attemptRow(attempt).number()).isEqualTo(2);
        assertThat(rows.count("select resume_checkpoint_id from attempts where id = ?", attempt))
                .isEqualTo(latest)
                .isNotEqualTo(older);
    }

    private long checkpoint(long job, long attempt, long step, boolean complete) throws Exception {
        return Jdbc.queryOne(
                        c,
                        """
                insert into checkpoints (job_id, attempt_id, step, state, path, sha256, created_at, completed_at)
                values (?, ?, ?, ?, ?, ?, ?, ?) returning id""",
                        rs -> rs.getLong(1),
                        job,
                        attempt,
                        step,
                        complete ? "COMPLETE" : "UPLOADING",
                        "ckpt/" + step,
                        complete ? "ab".repeat(32) : null,
                        T0.minusSeconds(100),
                        complete ? T0.minusSeconds(90) : null)
                .orElseThrow();
    }

    @Test
    void aPlacementOfAJobThatChangedSinceTheSnapshotIsSkippedAndWritesNothing() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project(null);
        rows.runner(pool).gpus(8).insert();
        long changed = rows.job(project)
                .pool(pool)
                .gpus(2)
                .submittedAt(T0.minusSeconds(900))
                .insert();
        long other = rows.job(project)
                .pool(pool)
                .gpus(2)
                .submittedAt(T0.minusSeconds(800))
                .insert();
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);
        Decision decision = decide(loaded);
        assertThat(decision.placements()).extracting(Placement::jobId).containsExactlyInAnyOrder(changed, other);
        // Meanwhile someone edits the job (still QUEUED, but at a new version).
        Jdbc.update(c, "update jobs set priority = 'HIGH', version = version + 1 where id = ?", changed);

        DecisionApplier.Applied applied = apply(decision, loaded);

        assertThat(applied.placed()).isEqualTo(1);
        assertThat(applied.skipped()).isEqualTo(1);
        Rows.JobRow row = rows.jobRow(changed);
        assertThat(row.state()).isEqualTo("QUEUED");
        assertThat(row.version()).isEqualTo(1);
        assertThat(rows.count("select count(*) from attempts where job_id = ?", changed))
                .isZero();
        assertThat(rows.events(changed)).isEmpty();
        assertThat(rows.jobRow(other).state()).isEqualTo("SCHEDULED");
        // It is considered again, at its new version, by the next cycle.
        assertThat(SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN).snapshot().queue())
                .singleElement()
                .satisfies(q -> assertThat(q.version()).isEqualTo(1));
    }

    @Test
    void aPlacementOnARunnerDrainedSinceTheSnapshotIsSkipped() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project(null);
        long runner = rows.runner(pool).gpus(8).insert();
        long job = rows.job(project).pool(pool).gpus(2).insert();
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);
        Decision decision = decide(loaded);
        assertThat(decision.placements()).extracting(Placement::jobId).containsExactly(job);
        // Meanwhile an admin drains the runner: it must get no new work.
        Jdbc.update(c, "update runners set state = 'DRAINING' where id = ?", runner);

        DecisionApplier.Applied applied = apply(decision, loaded);

        assertThat(applied.placed()).isZero();
        assertThat(applied.skipped()).isEqualTo(1);
        assertThat(rows.jobRow(job).state()).isEqualTo("QUEUED");
        assertThat(rows.count("select count(*) from attempts where job_id = ?", job))
                .isZero();
        assertThat(rows.events(job)).isEmpty();
    }

    @Test
    void whyNotIsStoredAndUnchangedRowsAreLeftAlone() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project(null);
        long first = rows.job(project).pool(pool).insert();
        long second = rows.job(project).pool(pool).insert();
        Instant estimate = T0.plusSeconds(1800);
        Decision waiting = waiting(
                new WaitingJob(first, PendingReason.WAITING_FOR_GPUS, "needs 1 GPU", 1, estimate, null),
                new WaitingJob(second, PendingReason.BEHIND_EARLIER_JOB, "behind " + first, 2, null, first));

        DecisionApplier.Applied applied = apply(waiting, SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN));

        assertThat(applied.pendingUpdated()).isEqualTo(2);
        Rows.JobRow a = rows.jobRow(first);
        assertThat(List.of(a.pendingReason(), a.pendingMessage())).containsExactly("WAITING_FOR_GPUS", "needs 1 GPU");
        assertThat(a.queuePosition()).isEqualTo(1);
        assertThat(a.estimatedStart()).isEqualTo(estimate);
        assertThat(a.version()).isZero();
        Rows.JobRow b = rows.jobRow(second);
        assertThat(b.pendingReason()).isEqualTo("BEHIND_EARLIER_JOB");
        assertThat(b.queuePosition()).isEqualTo(2);
        assertThat(b.estimatedStart()).isNull();

        // The same answer again rewrites no row (no dead tuples, no wake-ups of listeners for nothing).
        DecisionApplier.Applied again = apply(waiting, SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN));
        assertThat(again.pendingUpdated()).isZero();
        assertThat(rows.jobRow(first).xmin()).isEqualTo(a.xmin());
        assertThat(rows.jobRow(second).xmin()).isEqualTo(b.xmin());

        // Only the row whose position moved is written.
        DecisionApplier.Applied moved = apply(
                waiting(
                        new WaitingJob(first, PendingReason.WAITING_FOR_GPUS, "needs 1 GPU", 1, estimate, null),
                        new WaitingJob(second, PendingReason.BEHIND_EARLIER_JOB, "behind " + first, 3, null, first)),
                SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN));
        assertThat(moved.pendingUpdated()).isEqualTo(1);
        assertThat(rows.jobRow(first).xmin()).isEqualTo(a.xmin());
        assertThat(rows.jobRow(second).queuePosition()).isEqualTo(3);
    }

    @Test
    void whyNotIsNotWrittenOnAJobThatLeftTheQueueMeanwhile() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project(null);
        long job = rows.job(project).pool(pool).insert();
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);
        Jdbc.update(
                c, "update jobs set state = 'CANCELLED', finished_at = ?, version = version + 1 where id = ?", T0, job);

        apply(waiting(new WaitingJob(job, PendingReason.NO_POOL_FITS, "no pool", 0, null, null)), loaded);

        Rows.JobRow row = rows.jobRow(job);
        assertThat(row.state()).isEqualTo("CANCELLED");
        assertThat(row.pendingReason()).isNull();
    }

    @Test
    void stopsAreAskedOfLiveAttemptsOnly() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project("10");
        long runner = rows.runner(pool).insert();
        long lowJob =
                rows.job(project).pool(pool).priority("LOW").state("RUNNING").insert();
        long victim = rows.attempt(lowJob).on(runner, 1).insert();
        long costlyJob = rows.job(project).pool(pool).state("RUNNING").insert();
        long overBudget =
                rows.attempt(costlyJob).on(runner, 1).state("STARTING").insert();
        long cancelledJob =
                rows.job(project).pool(pool).state("RUNNING").cancelRequested().insert();
        long cancelling = rows.attempt(cancelledJob)
                .on(runner, 1)
                .stopping("STOPPING", "CANCELLED", T0.minusSeconds(5))
                .insert();
        long endedJob = rows.job(project).pool(pool).insert();
        long ended =
                rows.attempt(endedJob).on(runner, 1).ended(T0.minusSeconds(1)).insert();
        Decision stops = new Decision(
                List.of(),
                List.of(
                        new Preemption(victim, lowJob, PreemptionReason.HIGHER_PRIORITY_JOB, 99),
                        new Preemption(cancelling, cancelledJob, PreemptionReason.HIGHER_PRIORITY_JOB, 99),
                        new Preemption(ended, endedJob, PreemptionReason.HIGHER_PRIORITY_JOB, 99)),
                List.of(new BudgetStop(overBudget, costlyJob, BudgetStopReason.PROJECT_BUDGET_REACHED)),
                List.of(),
                List.of());

        DecisionApplier.Applied applied = apply(stops, SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN));

        assertThat(applied.stopsRequested()).isEqualTo(2);
        Rows.AttemptRow v = rows.attemptRow(victim);
        assertThat(List.of(v.state(), v.stopReason())).containsExactly("PREEMPTING", "PREEMPTED");
        assertThat(v.stopRequestedAt()).isEqualTo(T0);
        assertThat(v.endedAt()).isNull();
        assertThat(rows.events(lowJob)).containsExactly("RUNNING>RUNNING:PREEMPTION_REQUESTED");
        Rows.AttemptRow b = rows.attemptRow(overBudget);
        assertThat(List.of(b.state(), b.stopReason())).containsExactly("STOPPING", "BUDGET_EXHAUSTED");
        assertThat(b.stopRequestedAt()).isEqualTo(T0);
        assertThat(rows.events(costlyJob)).containsExactly("RUNNING>RUNNING:BUDGET_STOP_REQUESTED");
        // A stop already asked for (the user's cancel) is not turned into a preemption, nor its clock restarted.
        Rows.AttemptRow x = rows.attemptRow(cancelling);
        assertThat(List.of(x.state(), x.stopReason())).containsExactly("STOPPING", "CANCELLED");
        assertThat(x.stopRequestedAt()).isEqualTo(T0.minusSeconds(5));
        assertThat(rows.events(cancelledJob)).isEmpty();
        assertThat(rows.attemptRow(ended).state()).isEqualTo("ENDED");
        assertThat(rows.events(endedJob)).isEmpty();
        // Jobs keep running until their runner confirms the stop.
        assertThat(rows.jobRow(lowJob).state()).isEqualTo("RUNNING");
        assertThat(rows.jobRow(costlyJob).state()).isEqualTo("RUNNING");
    }

    @Test
    void aShortElasticAttemptThatTheSchedulerGrowsCheckpointsAndComesBackOnTheIdleGpus() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project(null);
        long runner = rows.runner(pool).gpus(8).insert();
        long job =
                rows.job(project).pool(pool).gpus(8).minGpus(2).state("RUNNING").insert();
        long attempt = rows.attempt(job).on(runner, 2).insert();
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);
        Decision decision = decide(loaded);
        assertThat(decision.resizes())
                .singleElement()
                .satisfies(r -> assertThat(r.gpus()).isEqualTo(8));

        apply(decision, loaded);

        assertThat(rows.attemptRow(attempt).state())
                .as("asked to checkpoint and stop")
                .isEqualTo("PREEMPTING");
        assertThat(decide(SnapshotLoader.load(c, T0.plusSeconds(1), Rows.HEARD_WITHIN))
                        .resizes())
                .as("asked once")
                .isEmpty();
        AttemptEnder.end(c, attempt, AttemptEnder.Ending.STOPPED, null, T0.plusSeconds(5));
        assertThat(rows.jobRow(job).state()).isEqualTo("QUEUED");
        SnapshotLoader.Loaded requeued = SnapshotLoader.load(c, T0.plusSeconds(6), Rows.HEARD_WITHIN);
        assertThat(decide(requeued).placements())
                .singleElement()
                .satisfies(p -> assertThat(p.gpus())
                        .as("placed again on all it asked for")
                        .isEqualTo(8));

        apply(decide(requeued), requeued);

        assertThat(rows.jobRow(job).restarts()).as("a resize uses no restart").isZero();
        assertThat(rows.events(job)).endsWith("QUEUED>SCHEDULED:PLACED", "SCHEDULED>SCHEDULED:RESIZED");
        assertThat(rows.text("select message from job_events where job_id = ? and reason = 'RESIZED'", job))
                .isEqualTo("Resized from 2 to 8 devices");
    }

    private static Decision waiting(WaitingJob... jobs) {
        return new Decision(List.of(), List.of(), List.of(), List.of(), List.of(jobs));
    }
}
