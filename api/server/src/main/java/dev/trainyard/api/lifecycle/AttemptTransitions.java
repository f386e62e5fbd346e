package dev.trainyard.api.lifecycle;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.scheduler.NodeAssignment;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * The only writer of {@code attempts.state}: creation, start, stop requests and the end, each checked against
 * {@link AttemptState#TRANSITIONS} and guarded on the states it moves from.
 */
public final class AttemptTransitions {

    private AttemptTransitions() {}

    /**
     * A new STARTING attempt of a job just placed, numbered after its job's last one, with one rank per runner and
     * the job's newest complete checkpoint to resume from.
     */
    static long create(Connection c, long jobId, int gpus, List<NodeAssignment> nodes, UUID leaseToken, Instant now)
            throws SQLException {
        long attemptId = Jdbc.queryOne(
                        c,
                        """
                insert into attempts (job_id, number, runner_id, gpus, lease_token, state, started_at,
                                      resume_checkpoint_id, cost_accounted_to)
                values (?, (select coalesce(max(number), 0) + 1 from attempts where job_id = ?), ?, ?, ?, ?, ?,
                        (select id from checkpoints where job_id = ? and state = 'COMPLETE' order by step desc limit 1), ?)
                returning id""",
                        rs -> rs.getLong(1),
                        jobId,
                        jobId,
                        nodes.get(0).runnerId(),
                        gpus,
                        leaseToken,
                        AttemptState.STARTING.word(),
                        now,
                        jobId,
                        now)
                .orElseThrow();
        for (NodeAssignment n : nodes) {
            Jdbc.update(
                    c,
                    "insert into attempt_runners (attempt_id, rank, runner_id, gpus) values (?, ?, ?, ?)",
                    attemptId,
                    n.rank(),
                    n.runnerId(),
                    n.gpus());
        }
        return attemptId;
    }

    /**
     * The runner began training: a STARTING attempt becomes RUNNING and its job, if still SCHEDULED, RUNNING too.
     * Returns the attempt's state afterwards; an attempt past STARTING (asked to stop already) is left as it is.
     */
    public static AttemptState start(
            Connection c, long attemptId, long jobId, AttemptState seen, int number, Instant now) throws SQLException {
        if (seen != AttemptState.STARTING) {
            return seen;
        }
        move(c, attemptId, List.of(AttemptState.STARTING), AttemptState.RUNNING, now);
        JobTransitions.move(
                c,
                JobMove.of(
                                jobId,
                                JobState.SCHEDULED,
                                JobState.RUNNING,
                                EventReason.STARTED,
                                "Attempt " + number + " started training")
                        .forAttempt(attemptId),
                now);
        return AttemptState.RUNNING;
    }

    /**
     * Asks a live attempt that has not been asked before to checkpoint and stop, and records the request on its
     * job. False when the attempt ended or was asked to stop meanwhile.
     */
    public static boolean requestStop(
            Connection c, long attemptId, long jobId, StopReason reason, String message, Instant now)
            throws SQLException {
        List<AttemptState> from = AttemptState.STOPPABLE;
        from.forEach(s -> AttemptState.TRANSITIONS.check(s, reason.attemptState()));
        int asked = Jdbc.update(c, """
                update attempts set state = ?, stop_reason = ?, stop_requested_at = ?
                 where id = ? and ended_at is null and state = any(?)""", reason.attemptState().word(), reason.word(), now, attemptId, words(c, from));
        if (asked == 1 && reason.event() != null) {
            JobTransitions.recordRequest(c, jobId, reason.event(), message, attemptId, now);
        }
        return asked == 1;
    }

    /**
     * Asks every live attempt of a job to stop for a cancel, overriding a preemption in flight; the grace period
     * runs from the first request.
     */
    static void requestCancel(Connection c, long jobId, Instant now) throws SQLException {
        StopReason cancel = StopReason.CANCEL;
        List<AttemptState> from = sources(cancel.attemptState());
        Jdbc.update(c, """
                update attempts set state = ?, stop_reason = ?, stop_requested_at = coalesce(stop_requested_at, ?)
                 where job_id = ? and ended_at is null and state = any(?)""", cancel.attemptState().word(), cancel.word(), now, jobId, words(c, from));
    }

    /** Ends a live attempt the caller has locked and read in state {@code seen}. */
    static void end(Connection c, long attemptId, AttemptState seen, String endReason, Instant now)
            throws SQLException {
        AttemptState.TRANSITIONS.check(seen, AttemptState.ENDED);
        int ended = Jdbc.update(c, """
                update attempts set state = ?, ended_at = ?, end_reason = ? where id = ? and state = ?""", AttemptState.ENDED.word(), now, endReason, attemptId, seen.word());
        if (ended != 1) {
            throw new IllegalStateException("attempt " + attemptId + " changed while locked");
        }
    }

    /**
     * A bare guarded move of an attempt's state (ending one stamps {@code ended_at}, as the database demands); the
     * start uses it, and the lifecycle's tests try every pair of the table through it.
     */
    static boolean move(Connection c, long attemptId, List<AttemptState> from, AttemptState to, Instant now)
            throws SQLException {
        from.forEach(s -> AttemptState.TRANSITIONS.check(s, to));
        return Jdbc.update(c, """
                update attempts set state = ?, ended_at = case when ? then cast(? as timestamptz) else ended_at end
                 where id = ? and state = any(?)""", to.word(), to == AttemptState.ENDED, now, attemptId, words(c, from)) == 1;
    }

    /** The states that may move to {@code to}, other than {@code to} itself. */
    private static List<AttemptState> sources(AttemptState to) {
        return Arrays.stream(AttemptState.values())
                .filter(s -> s != to && AttemptState.TRANSITIONS.allows(s, to))
                .toList();
    }

    private static java.sql.Array words(Connection c, List<AttemptState> states) throws SQLException {
        return c.createArrayOf("text", states.stream().map(AttemptState::word).toArray());
    }
}
