package dev.trainyard.api.lifecycle;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.scheduling.CostAccountant;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/**
 * Ends an attempt and moves its job to where the attempt's ending leads: the one place that knows that a
 * preempted job goes back to the queue, a lost runner costs a restart, and a stop asked for by a cancel ends
 * the job CANCELLED, and a runner stopped on purpose requeues its jobs without using a restart. Used by the runner protocol (the runner says how it ended) and by the rescuer (it did not).
 */
public final class AttemptEnder {

    private AttemptEnder() {}

    /** How an attempt ended, as far as the platform knows. */
    public enum Ending {
        /** The runner trained every step. */
        SUCCEEDED,
        /** Training failed with an error; retrying would fail the same way. */
        FAILED,
        /** The runner stopped as it was asked to (cancel, preempt, budget, runtime limit), after its final checkpoint. */
        STOPPED,
        /** The runner vanished (heartbeats stopped) or did not stop within its grace period. */
        LOST
    }

    private record Live(
            long jobId,
            JobState jobState,
            AttemptState attemptState,
            StopReason stopReason,
            boolean cancelRequested,
            int restarts,
            int maxRestarts) {}

    /** Returns the job's new state, or empty when the attempt had already ended (nothing changed). */
    public static Optional<JobState> end(Connection c, long attemptId, Ending ending, String detail, Instant now)
            throws SQLException {
        return end(c, attemptId, ending, detail, null, now);
    }

    /**
     * As {@link #end(Connection, long, Ending, String, Instant)}, for a FAILED attempt whose loss diverged at
     * {@code divergence} (null when it did not): the job ends FAILED with reason TRAINING_DIVERGED and the step
     * and the loss as data.
     */
    public static Optional<JobState> end(
            Connection c, long attemptId, Ending ending, String detail, Divergence divergence, Instant now)
            throws SQLException {
        if (divergence != null && ending != Ending.FAILED) {
            throw new IllegalArgumentException("only a FAILED attempt diverged, not a " + ending + " one");
        }
        // lock the attempt before its job, in the same order as every other writer, so ends never deadlock;
        // FOR UPDATE, not a weaker lock: it waits for metric batches fenced with a key-share lock (FencedAttempt)
        Optional<Long> jobId = Jdbc.queryOne(
                c,
                "select job_id from attempts where id = ? and ended_at is null for update",
                rs -> rs.getLong(1),
                attemptId);
        if (jobId.isEmpty()) {
            return Optional.empty();
        }
        Optional<Live> live = Jdbc.queryOne(
                c,
                """
                select j.id, j.state, a.state, a.stop_reason, j.cancel_requested, j.restarts, j.max_restarts
                  from jobs j join attempts a on a.id = ? where j.id = ? for update of j""",
                rs -> new Live(
                        rs.getLong(1),
                        JobState.ofWord(rs.getString(2)),
                        AttemptState.ofWord(rs.getString(3)),
                        StopReason.ofWord(rs.getString(4)),
                        rs.getBoolean(5),
                        rs.getInt(6),
                        rs.getInt(7)),
                attemptId,
                jobId.get());
        if (live.isEmpty()) {
            return Optional.empty();
        }
        Live a = live.get();
        CostAccountant.accrueOne(c, attemptId, now);
        AttemptTransitions.end(c, attemptId, a.attemptState, endReason(ending, a.stopReason, detail), now);
        JobState from = a.jobState;
        Outcome outcome = divergence != null
                ? new Outcome(JobState.FAILED, EventReason.TRAINING_DIVERGED, detail, false, false)
                : outcome(ending, a, detail);
        if (outcome.viaPreempted && from.canMoveTo(JobState.PREEMPTED)) {
            moveJob(
                    c,
                    JobMove.of(
                                    a.jobId,
                                    from,
                                    JobState.PREEMPTED,
                                    EventReason.PREEMPTED,
                                    "Checkpointed and stopped for a higher-priority job")
                            .forAttempt(attemptId),
                    now);
            from = JobState.PREEMPTED;
        }
        moveJob(
                c,
                JobMove.of(a.jobId, from, outcome.state, outcome.reason, outcome.message)
                        .forAttempt(attemptId)
                        .countingRestart(outcome.countsRestart)
                        .withDivergence(divergence),
                now);
        return Optional.of(outcome.state);
    }

    private record Outcome(
            JobState state, EventReason reason, String message, boolean countsRestart, boolean viaPreempted) {}

    private static Outcome outcome(Ending ending, Live a, String detail) {
        if (ending == Ending.SUCCEEDED) {
            return new Outcome(JobState.SUCCEEDED, EventReason.COMPLETED, "Trained every step", false, false);
        }
        if (ending == Ending.FAILED) {
            return new Outcome(JobState.FAILED, EventReason.TRAINING_FAILED, detail, false, false);
        }
        if (a.cancelRequested || a.stopReason == StopReason.CANCEL) {
            return new Outcome(JobState.CANCELLED, EventReason.CANCELLED_BY_USER, "Stopped on request", false, false);
        }
        if (a.stopReason == StopReason.BUDGET) {
            return new Outcome(JobState.BUDGET_EXHAUSTED, EventReason.BUDGET_EXHAUSTED, detail, false, false);
        }
        if (a.stopReason == StopReason.RUNTIME_LIMIT) {
            // the limit ends the job: requeued, it would run on without bound, one attempt's limit after another
            return new Outcome(
                    JobState.FAILED,
                    EventReason.RUNTIME_LIMIT_REACHED,
                    "Ran for limits.maxRuntimeSeconds and was stopped" + suffix(detail),
                    false,
                    false);
        }
        if (a.stopReason == StopReason.GROW) {
            return new Outcome(
                    JobState.QUEUED, EventReason.REQUEUED_TO_GROW, "Checkpointed; resumes on more GPUs", false, false);
        }
        if (a.stopReason == StopReason.PREEMPT) {
            return new Outcome(
                    JobState.QUEUED,
                    EventReason.REQUEUED_AFTER_PREEMPTION,
                    "Will resume from its last checkpoint",
                    false,
                    true);
        }
        if (a.stopReason == StopReason.RUNNER_STOP) {
            // the runner was stopped on purpose, not lost: whether or not it got its checkpoint out, no restart
            return new Outcome(
                    JobState.QUEUED,
                    EventReason.REQUEUED_RUNNER_STOPPED,
                    "Its runner stopped on purpose; resumes from its last checkpoint" + suffix(detail),
                    false,
                    false);
        }
        if (a.restarts < a.maxRestarts) {
            return new Outcome(
                    JobState.QUEUED,
                    EventReason.RUNNER_LOST,
                    "Requeued to resume from its last complete checkpoint (" + (a.restarts + 1) + " of " + a.maxRestarts
                            + " restarts)" + suffix(detail),
                    true,
                    false);
        }
        return new Outcome(
                JobState.FAILED,
                EventReason.RESTARTS_EXHAUSTED,
                "Runner lost and all " + a.maxRestarts + " restarts used" + suffix(detail),
                false,
                false);
    }

    private static void moveJob(Connection c, JobMove move, Instant now) throws SQLException {
        // the job row is locked and was read above: a guard that fails here means a writer skipped the lock
        if (!JobTransitions.move(c, move, now)) {
            throw new IllegalStateException("job " + move.jobId() + " changed while locked");
        }
    }

    private static String endReason(Ending ending, StopReason stopReason, String detail) {
        String base = ending == Ending.STOPPED && stopReason != null ? stopReason.word() : ending.name();
        return detail == null || detail.isBlank() ? base : base + ": " + truncate(detail);
    }

    private static String suffix(String detail) {
        return detail == null || detail.isBlank() ? "" : "; " + truncate(detail);
    }

    private static String truncate(String s) {
        return s.length() > 2000 ? s.substring(0, 2000) : s;
    }
}
