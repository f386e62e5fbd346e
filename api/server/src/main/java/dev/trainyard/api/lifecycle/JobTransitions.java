package dev.trainyard.api.lifecycle;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.scheduler.Placement;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * The only writer of {@code jobs.state} and of {@code job_events}: every move is checked against
 * {@link JobState#TRANSITIONS} and written with a guard on the state (and version) the writer saw, so a row that
 * changed meanwhile is left alone and the move reports false.
 */
public final class JobTransitions {

    private JobTransitions() {}

    /** Moves a job and records the event; false, with nothing written, when the row is no longer as seen. */
    public static boolean move(Connection c, JobMove move, Instant now) throws SQLException {
        if (!update(c, move, now)) {
            return false;
        }
        insertEvent(
                c,
                move.jobId(),
                move.from(),
                move.to(),
                move.reason(),
                move.message(),
                move.attemptId(),
                move.divergence(),
                now);
        return true;
    }

    /**
     * Places a job that is still QUEUED at the version the snapshot saw: it becomes SCHEDULED with a new STARTING
     * attempt on the placement's runners. Returns false, with nothing written, when the job changed meanwhile.
     */
    public static boolean place(Connection c, Placement p, UUID leaseToken, Instant now) throws SQLException {
        String where = p.nodes().size() == 1
                ? "runner " + p.nodes().get(0).runnerId()
                : p.nodes().size() + " runners";
        JobMove move = JobMove.of(
                        p.jobId(),
                        JobState.QUEUED,
                        JobState.SCHEDULED,
                        EventReason.PLACED,
                        p.gpus() + " device(s) on " + where)
                .atVersion(p.jobVersion());
        if (!update(c, move, now)) {
            return false;
        }
        Optional<Integer> before = Jdbc.queryOne(
                c,
                "select gpus from attempts where job_id = ? order by number desc limit 1",
                rs -> rs.getInt(1),
                p.jobId());
        long attemptId = AttemptTransitions.create(c, p.jobId(), p.gpus(), p.nodes(), leaseToken, now);
        insertEvent(c, p.jobId(), move.from(), move.to(), move.reason(), move.message(), attemptId, null, now);
        if (before.isPresent() && before.get() != p.gpus()) {
            // an elastic job grown, or back on fewer devices after a loss: the same global batch, other processes
            insertEvent(
                    c,
                    p.jobId(),
                    move.to(),
                    move.to(),
                    EventReason.RESIZED,
                    "Resized from " + before.get() + " to " + p.gpus() + " devices",
                    attemptId,
                    null,
                    now);
        }
        return true;
    }

    /** Records a job's submission; the job row itself is inserted QUEUED by {@link LifecycleService#submit}. */
    static void submitted(Connection c, long jobId, String message, Instant at) throws SQLException {
        insertEvent(c, jobId, null, JobState.QUEUED, EventReason.SUBMITTED, message, null, null, at);
    }

    /**
     * Records a request that changes no state (a stop asked of a running attempt): the event's from and to are the
     * job's current state.
     */
    static void recordRequest(Connection c, long jobId, EventReason reason, String message, long attemptId, Instant now)
            throws SQLException {
        Jdbc.update(c, """
                insert into job_events (job_id, at, from_state, to_state, reason, message, attempt_id)
                select id, ?, state, state, ?, ?, ? from jobs where id = ?""", now, reason.word(), message, attemptId, jobId);
    }

    /**
     * Asks a running job to stop for its user: the job is marked, and its live attempts are asked to stop, which
     * the runner learns on its next heartbeat. False when the job changed since the caller read it.
     */
    public static boolean requestCancel(Connection c, long jobId, long version, JobState from, Instant now)
            throws SQLException {
        // attempts before the job: the order every other writer (runner ends, the rescuer) locks them in
        Jdbc.query(
                c,
                "select id from attempts where job_id = ? and ended_at is null for update",
                rs -> rs.getLong(1),
                jobId);
        int updated = Jdbc.update(c, """
                update jobs set cancel_requested = true, version = version + 1
                 where id = ? and state = ? and version = ?""", jobId, from.word(), version);
        if (updated == 0) {
            return false;
        }
        AttemptTransitions.requestCancel(c, jobId, now);
        return true;
    }

    private static boolean update(Connection c, JobMove m, Instant now) throws SQLException {
        JobState.TRANSITIONS.check(m.from(), m.to());
        // one statement for every move: what each column becomes follows from the target state alone
        int updated = Jdbc.update(
                c,
                """
                update jobs set state = ?, state_reason = ?, version = version + 1, restarts = restarts + ?,
                       finished_at = case when ? then cast(? as timestamptz) else finished_at end,
                       started_at = case when ? then coalesce(started_at, cast(? as timestamptz)) else started_at end,
                       pending_reason = case when ? then 'WAITING_FOR_SCHEDULER' else null end,
                       pending_message = null, queue_position = null, estimated_start_at = null,
                       divergence_step = ?, divergence_loss = ?
                 where id = ? and state = ? and (cast(? as bigint) is null or version = ?)""",
                m.to().word(),
                m.reason().stateReason(),
                m.countsRestart() ? 1 : 0,
                m.to().isTerminal(),
                now,
                m.to() == JobState.RUNNING,
                now,
                m.to() == JobState.QUEUED,
                m.divergence() == null ? null : m.divergence().step(),
                m.divergence() == null ? null : m.divergence().loss(),
                m.jobId(),
                m.from().word(),
                m.version(),
                m.version());
        return updated == 1;
    }

    private static void insertEvent(
            Connection c,
            long jobId,
            JobState from,
            JobState to,
            EventReason reason,
            String message,
            Long attemptId,
            Divergence divergence,
            Instant at)
            throws SQLException {
        Jdbc.update(
                c,
                """
                insert into job_events (job_id, at, from_state, to_state, reason, message, attempt_id,
                                        divergence_step, divergence_loss)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                jobId,
                at,
                from == null ? null : from.word(),
                to.word(),
                reason.word(),
                message,
                attemptId,
                divergence == null ? null : divergence.step(),
                divergence == null ? null : divergence.loss());
    }
}
