package dev.trainyard.api.scheduling;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.jobs.JobState;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/**
 * Ends an attempt and moves its job to where the attempt's ending leads: the one place that knows that a
 * preempted job goes back to the queue, a lost runner costs a restart, and a stop asked for by a cancel ends
 * the job CANCELLED. Used by the runner protocol (the runner says how it ended) and by the rescuer (it did not).
 */
public final class AttemptEnder {

    private AttemptEnder() {
    }

    /** How an attempt ended, as far as the platform knows. */
    public enum Ending {
        /** The runner trained every step. */
        SUCCEEDED,
        /** Training failed with an error; retrying would fail the same way. */
        FAILED,
        /** The runner stopped as it was asked to (cancel, preempt, budget), after its final checkpoint. */
        STOPPED,
        /** The runner vanished (heartbeats stopped) or did not stop within its grace period. */
        LOST
    }

    private record Live(long jobId, String jobState, long jobVersion, String stopReason, boolean cancelRequested,
            int restarts, int maxRestarts) {
    }

    /** Returns the job's new state, or empty when the attempt had already ended (nothing changed). */
    public static Optional<JobState> end(Connection c, long attemptId, Ending ending, String detail, Instant now)
            throws SQLException {
        // lock the attempt before its job, in the same order as every other writer, so ends never deadlock;
        // FOR UPDATE, not a weaker lock: it waits for metric batches fenced with a key-share lock (FencedAttempt)
        Optional<Long> jobId = Jdbc.queryOne(c, "select job_id from attempts where id = ? and ended_at is null for update",
                rs -> rs.getLong(1), attemptId);
        if (jobId.isEmpty()) {
            return Optional.empty();
        }
        Optional<Live> live = Jdbc.queryOne(c, """
                select j.id, j.state, j.version, a.stop_reason, j.cancel_requested, j.restarts, j.max_restarts
                  from jobs j join attempts a on a.id = ? where j.id = ? for update of j""",
                rs -> new Live(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getBoolean(5),
                        rs.getInt(6), rs.getInt(7)), attemptId, jobId.get());
        if (live.isEmpty()) {
            return Optional.empty();
        }
        Live a = live.get();
        CostAccountant.accrueOne(c, attemptId, now);
        Jdbc.update(c, "update attempts set state = 'ENDED', ended_at = ?, end_reason = ? where id = ?",
                now, endReason(ending, a.stopReason, detail), attemptId);
        JobState from = JobState.valueOf(a.jobState);
        Outcome outcome = outcome(ending, a, detail);
        if (outcome.viaPreempted && from.canMoveTo(JobState.PREEMPTED)) {
            moveJob(c, a.jobId, from, JobState.PREEMPTED, "PREEMPTED", "Checkpointed and stopped for a higher-priority job",
                    attemptId, now, false);
            from = JobState.PREEMPTED;
        }
        moveJob(c, a.jobId, from, outcome.state, outcome.reason, outcome.message, attemptId, now, outcome.countsRestart);
        return Optional.of(outcome.state);
    }

    private record Outcome(JobState state, String reason, String message, boolean countsRestart, boolean viaPreempted) {
    }

    private static Outcome outcome(Ending ending, Live a, String detail) {
        if (ending == Ending.SUCCEEDED) {
            return new Outcome(JobState.SUCCEEDED, "COMPLETED", "Trained every step", false, false);
        }
        if (ending == Ending.FAILED) {
            return new Outcome(JobState.FAILED, "TRAINING_FAILED", detail, false, false);
        }
        if (a.cancelRequested || "CANCELLED".equals(a.stopReason)) {
            return new Outcome(JobState.CANCELLED, "CANCELLED_BY_USER", "Stopped on request", false, false);
        }
        if ("BUDGET_EXHAUSTED".equals(a.stopReason)) {
            return new Outcome(JobState.BUDGET_EXHAUSTED, "BUDGET_EXHAUSTED", detail, false, false);
        }
        if ("RESIZE".equals(a.stopReason)) {
            return new Outcome(JobState.QUEUED, "REQUEUED_TO_GROW", "Checkpointed; resumes on more GPUs", false, false);
        }
        if ("PREEMPTED".equals(a.stopReason)) {
            return new Outcome(JobState.QUEUED, "REQUEUED_AFTER_PREEMPTION", "Will resume from its last checkpoint",
                    false, true);
        }
        if (a.restarts < a.maxRestarts) {
            return new Outcome(JobState.QUEUED, "RUNNER_LOST", "Requeued to resume from its last complete checkpoint ("
                    + (a.restarts + 1) + " of " + a.maxRestarts + " restarts)" + suffix(detail), true, false);
        }
        return new Outcome(JobState.FAILED, "RESTARTS_EXHAUSTED", "Runner lost and all " + a.maxRestarts
                + " restarts used" + suffix(detail), false, false);
    }

    private static void moveJob(Connection c, long jobId, JobState from, JobState to, String reason, String message,
            long attemptId, Instant now, boolean countsRestart) throws SQLException {
        if (!from.canMoveTo(to)) {
            throw new IllegalStateException("job " + jobId + " cannot move from " + from + " to " + to);
        }
        Jdbc.update(c, """
                update jobs set state = ?, state_reason = ?, version = version + 1,
                       restarts = restarts + ?, finished_at = case when ? then cast(? as timestamptz) else finished_at end,
                       pending_reason = case when ? = 'QUEUED' then 'WAITING_FOR_SCHEDULER' else null end,
                       pending_message = null, queue_position = null, estimated_start_at = null
                 where id = ?""",
                to.name(), reason, countsRestart ? 1 : 0, to.isTerminal(), now, to.name(), jobId);
        Jdbc.update(c, """
                insert into job_events (job_id, at, from_state, to_state, reason, message, attempt_id)
                values (?, ?, ?, ?, ?, ?, ?)""", jobId, now, from.name(), to.name(), reason, message, attemptId);
    }

    private static String endReason(Ending ending, String stopReason, String detail) {
        String base = ending == Ending.STOPPED && stopReason != null ? stopReason : ending.name();
        return detail == null || detail.isBlank() ? base : base + ": " + truncate(detail);
    }

    private static String suffix(String detail) {
        return detail == null || detail.isBlank() ? "" : "; " + truncate(detail);
    }

    private static String truncate(String s) {
        return s.length() > 2000 ? s.substring(0, 2000) : s;
    }
}
