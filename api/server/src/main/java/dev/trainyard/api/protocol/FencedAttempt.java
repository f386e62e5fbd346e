package dev.trainyard.api.protocol;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.lifecycle.StopReason;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

/**
 * An attempt that passed the fencing check: it holds a rank on the calling token's runner, it is live, it is its
 * job's newest attempt, and the caller knows its lease token. A runner cut off from the platform and replaced can
 * therefore never write into the newer attempt's metrics, logs or checkpoints, and no runner can write into an
 * attempt of another runner, whatever lease token it learned.
 */
public record FencedAttempt(long attemptId, long jobId, int number, String state, String stopReason) {

    /** Checks the caller's runner and the lease token, locking the attempt row for the rest of the transaction. */
    public static FencedAttempt check(Connection c, long tokenId, long attemptId, String leaseToken)
            throws SQLException {
        return check(c, tokenId, attemptId, leaseToken, "for update");
    }

    /**
     * Checks the lease token with a key-share lock, for reports that only add rows (metrics). The attempt still
     * cannot end before the transaction does, because {@code lifecycle.AttemptEnder} locks the row FOR UPDATE (which
     * conflicts with every lock) before it sets {@code ended_at}, and ending is the only way an attempt stops
     * being current; cost accrual and stop requests, which update other columns, no longer wait for the report.
     */
    public static FencedAttempt checkForReport(Connection c, long tokenId, long attemptId, String leaseToken)
            throws SQLException {
        return check(c, tokenId, attemptId, leaseToken, "for key share");
    }

    private static FencedAttempt check(Connection c, long tokenId, long attemptId, String leaseToken, String lock)
            throws SQLException {
        UUID token = parse(leaseToken);
        RunnerIdentity.checkAssigned(c, tokenId, attemptId);
        org.jboss.logging.MDC.put("attemptId", Long.toString(attemptId));
        FencedAttempt fenced = Jdbc.queryOne(
                        c,
                        """
                select a.id, a.job_id, a.number, a.state, a.stop_reason from attempts a
                 where a.id = ? and a.lease_token = ? and a.ended_at is null
                   and a.number = (select max(number) from attempts where job_id = a.job_id)
                 """ + lock,
                        rs -> new FencedAttempt(
                                rs.getLong(1), rs.getLong(2), rs.getInt(3), rs.getString(4), rs.getString(5)),
                        attemptId,
                        token)
                .orElseThrow(() -> stale(attemptId));
        org.jboss.logging.MDC.put("jobId", Long.toString(fenced.jobId()));
        return fenced;
    }

    /** The stop the runner must carry out, in the protocol's words, or null. */
    public String stop() {
        return StopReason.protocolWordOf(stopReason);
    }

    static UUID parse(String leaseToken) {
        try {
            return UUID.fromString(leaseToken == null ? "" : leaseToken);
        } catch (IllegalArgumentException e) {
            throw ApiException.InvalidInput.of("leaseToken", "is not a lease token");
        }
    }

    static ApiException stale(long attemptId) {
        return new ApiException.Conflict(
                ProblemType.STALE_ATTEMPT,
                "Attempt " + attemptId + " is not current (ended, replaced, or wrong lease token); stop working on it");
    }
}
