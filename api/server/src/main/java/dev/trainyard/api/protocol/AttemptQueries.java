package dev.trainyard.api.protocol;

import dev.trainyard.api.db.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/** The SQL of an attempt's calls that is not a state change: its ranks, its rendezvous, its job's progress. */
final class AttemptQueries {

    private AttemptQueries() {}

    /** The runners holding a rank of the attempt: whose heartbeats show a change to it. */
    static List<Long> runnersOf(Connection c, long attemptId) throws SQLException {
        return Jdbc.query(
                c, "select runner_id from attempt_runners where attempt_id = ?", rs -> rs.getLong(1), attemptId);
    }

    /** Records rank 0's address once; false when the attempt already has another one. */
    static boolean publishRendezvous(Connection c, long attemptId, String host, int port) throws SQLException {
        return Jdbc.update(c, """
                update attempts set rendezvous_host = ?, rendezvous_port = ?
                 where id = ? and (rendezvous_host is null or (rendezvous_host = ? and rendezvous_port = ?))""", host, port, attemptId, host, port) == 1;
    }

    /** The job's steps: the highest step a runner may report. */
    static long totalSteps(Connection c, long jobId) throws SQLException {
        return Jdbc.queryOne(c, "select total_steps from jobs where id = ?", rs -> rs.getLong(1), jobId)
                .orElseThrow();
    }

    /** Raises the job's last completed step, never lowers it. */
    static void raiseLastStep(Connection c, long jobId, long step) throws SQLException {
        Jdbc.update(c, "update jobs set last_step = greatest(last_step, ?) where id = ?", step, jobId);
    }

    /** When the attempt last stored a checkpoint: the scheduler prefers preempting work that checkpointed lately. */
    static void touchCheckpoint(Connection c, long attemptId, Instant at) throws SQLException {
        Jdbc.update(c, "update attempts set last_checkpoint_at = ? where id = ?", at, attemptId);
    }
}
