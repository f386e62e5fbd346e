package dev.trainyard.api.scheduling;

import static dev.trainyard.api.scheduling.Rows.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.lifecycle.AttemptEnder;
import dev.trainyard.api.lifecycle.AttemptEnder.Ending;
import dev.trainyard.api.lifecycle.JobState;
import java.sql.Connection;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How an attempt's ending moves its job: the lifecycle a user sees after a preemption, a lost runner, a stop. */
class AttemptEnderTest {
    private static final Instant END = T0.plusSeconds(60);

    private Connection c;
    private Rows rows;
    private long project;
    private long runner;

    @BeforeEach
    void open() throws Exception {
        SchedulingDatabase.empty();
        c = SchedulingDatabase.connect();
        rows = new Rows(c);
        long pool = rows.pool("a100", "2");
        project = rows.project(null);
        runner = rows.runner(pool).gpus(8).insert();
    }

    @AfterEach
    void close() throws Exception {
        c.close();
    }

    private Optional<JobState> end(long attempt, Ending ending, String detail) throws Exception {
        c.setAutoCommit(false);
        try {
            Optional<JobState> state = AttemptEnder.end(c, attempt, ending, detail, END);
            c.commit();
            return state;
        } finally {
            c.setAutoCommit(true);
        }
    }

    @Test
    void aPreemptedJobGoesBackToTheQueueThroughPreemptedWithoutUsingARestart() throws Exception {
        long job = rows.job(project).state("RUNNING").maxRestarts(1).insert();
        long attempt = rows.attempt(job)
                .on(runner, 2)
                .stopping("PREEMPTING", "PREEMPTED", T0)
                .insert();

        assertThat(end(attempt, Ending.STOPPED, null)).contains(JobState.QUEUED);

        Rows.JobRow row = rows.jobRow(job);
        assertThat(row.state()).isEqualTo("QUEUED");
        assertThat(row.restarts()).isZero();
        assertThat(row.finishedAt()).isNull();
        assertThat(row.pendingReason()).isEqualTo("WAITING_FOR_SCHEDULER");
        assertThat(row.stateReason()).isEqualTo("REQUEUED_AFTER_PREEMPTION");
        assertThat(rows.events(job))
                .containsExactly("RUNNING>PREEMPTED:PREEMPTED", "PREEMPTED>QUEUED:REQUEUED_AFTER_PREEMPTION");
        Rows.AttemptRow a = rows.attemptRow(attempt);
        assertThat(a.state()).isEqualTo("ENDED");
        assertThat(a.endedAt()).isEqualTo(END);
        assertThat(a.endReason()).isEqualTo("PREEMPTED");
        // Its GPUs are free again and it is back in the queue for the next cycle.
        SnapshotLoader.Loaded next = SnapshotLoader.load(c, END, Rows.HEARD_WITHIN);
        assertThat(next.snapshot().running()).isEmpty();
        assertThat(next.snapshot().queue())
                .singleElement()
                .satisfies(q -> assertThat(q.id()).isEqualTo(job));
    }

    @Test
    void aLostRunnerCostsARestartAndTheJobFailsOnceRestartsAreUsedUp() throws Exception {
        long job = rows.job(project).state("RUNNING").maxRestarts(1).insert();
        long first = rows.attempt(job).on(runner, 2).insert();

        assertThat(end(first, Ending.LOST, "runner stopped sending heartbeats")).contains(JobState.QUEUED);

        Rows.JobRow requeued = rows.jobRow(job);
        assertThat(requeued.state()).isEqualTo("QUEUED");
        assertThat(requeued.restarts()).isEqualTo(1);
        assertThat(requeued.stateReason()).isEqualTo("RUNNER_LOST");
        assertThat(requeued.finishedAt()).isNull();
        assertThat(rows.attemptRow(first).endReason()).isEqualTo("LOST: runner stopped sending heartbeats");

        Jdbc.update(c, "update jobs set state = 'RUNNING', version = version + 1 where id = ?", job);
        long second =
                rows.attempt(job).on(runner, 2).startedAt(END.minusSeconds(10)).insert();

        assertThat(end(second, Ending.LOST, null)).contains(JobState.FAILED);

        Rows.JobRow failed = rows.jobRow(job);
        assertThat(failed.state()).isEqualTo("FAILED");
        assertThat(failed.stateReason()).isEqualTo("RESTARTS_EXHAUSTED");
        assertThat(failed.restarts()).isEqualTo(1);
        assertThat(failed.finishedAt()).isEqualTo(END);
        assertThat(failed.pendingReason()).isNull();
        assertThat(rows.events(job)).containsExactly("RUNNING>QUEUED:RUNNER_LOST", "RUNNING>FAILED:RESTARTS_EXHAUSTED");
    }

    @Test
    void aStopAskedForByACancelEndsTheJobCancelledEvenIfTheRunnerIsLost() throws Exception {
        long stopped = rows.job(project).state("RUNNING").cancelRequested().insert();
        long a1 = rows.attempt(stopped)
                .on(runner, 1)
                .stopping("STOPPING", "CANCELLED", T0)
                .insert();
        long lost = rows.job(project).state("RUNNING").cancelRequested().insert();
        long a2 = rows.attempt(lost)
                .on(runner, 1)
                .stopping("STOPPING", "CANCELLED", T0)
                .insert();

        assertThat(end(a1, Ending.STOPPED, null)).contains(JobState.CANCELLED);
        assertThat(end(a2, Ending.LOST, null)).contains(JobState.CANCELLED);

        for (long job : List.of(stopped, lost)) {
            Rows.JobRow row = rows.jobRow(job);
            assertThat(row.state()).isEqualTo("CANCELLED");
            assertThat(row.finishedAt()).isEqualTo(END);
            assertThat(row.restarts()).isZero();
            assertThat(rows.events(job)).containsExactly("RUNNING>CANCELLED:CANCELLED_BY_USER");
        }
    }

    @Test
    void aBudgetStopEndsTheJobBudgetExhausted() throws Exception {
        long job = rows.job(project).state("RUNNING").maxCost("1").insert();
        long attempt = rows.attempt(job)
                .on(runner, 1)
                .stopping("STOPPING", "BUDGET_EXHAUSTED", T0)
                .insert();

        assertThat(end(attempt, Ending.STOPPED, "max cost reached")).contains(JobState.BUDGET_EXHAUSTED);

        Rows.JobRow row = rows.jobRow(job);
        assertThat(row.state()).isEqualTo("BUDGET_EXHAUSTED");
        assertThat(row.finishedAt()).isEqualTo(END);
        assertThat(rows.attemptRow(attempt).endReason()).isEqualTo("BUDGET_EXHAUSTED: max cost reached");
        assertThat(rows.events(job)).containsExactly("RUNNING>BUDGET_EXHAUSTED:BUDGET_EXHAUSTED");
    }

    @Test
    void endingAnAttemptTwiceChangesNothing() throws Exception {
        long job = rows.job(project).state("RUNNING").maxRestarts(3).insert();
        long attempt = rows.attempt(job).on(runner, 2).costAccountedTo(T0).insert();
        assertThat(end(attempt, Ending.LOST, null)).contains(JobState.QUEUED);
        Rows.JobRow once = rows.jobRow(job);
        Rows.AttemptRow attemptOnce = rows.attemptRow(attempt);
        long ledgerRows = rows.count("select count(*) from cost_ledger");

        // The runner's own report arrives after the rescuer already ended it (or the rescuer runs twice).
        assertThat(end(attempt, Ending.SUCCEEDED, null)).isEmpty();
        assertThat(end(attempt, Ending.LOST, null)).isEmpty();

        assertThat(rows.jobRow(job)).isEqualTo(once);
        assertThat(once.restarts()).isEqualTo(1);
        assertThat(rows.attemptRow(attempt)).isEqualTo(attemptOnce);
        assertThat(rows.events(job)).hasSize(1);
        assertThat(rows.count("select count(*) from cost_ledger"))
                .isEqualTo(ledgerRows)
                .isEqualTo(1);
    }

    @Test
    void anEndedAttemptIsChargedUpToItsEnd() throws Exception {
        long job = rows.job(project).state("RUNNING").insert();
        long attempt = rows.attempt(job).on(runner, 3).costAccountedTo(T0).insert();

        end(attempt, Ending.SUCCEEDED, null);

        // 2 USD per GPU-hour x 3 GPUs x 60 s = 0.1 USD
        assertThat(rows.jobRow(job).state()).isEqualTo("SUCCEEDED");
        assertThat(rows.attemptRow(attempt).accruedCostUsd()).isEqualByComparingTo("0.1");
        assertThat(rows.attemptRow(attempt).costAccountedTo()).isEqualTo(END);
        assertThat(rows.jobRow(job).accruedCostUsd()).isEqualByComparingTo("0.1");
        assertThat(rows.sum("select sum(amount_usd) from cost_ledger where attempt_id = ?", attempt))
                .isEqualByComparingTo("0.1");
    }
}
