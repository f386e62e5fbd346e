package dev.trainyard.api.protocol;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.error.ApiException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * Binds each runner token to exactly one runner and checks every runner call against it: a token registers
 * one runner name (and only that one again), acts only as that runner, and reaches only the attempts assigned
 * to that runner. The binding is {@code runners.token_id}, unique since migration V4.
 */
final class RunnerIdentity {

    private RunnerIdentity() {}

    /**
     * Refuses a registration that would give this token a second runner or take over another token's runner.
     * The token's row stays locked until the transaction ends, so two registrations with one token cannot both
     * pass. A runner whose token was revoked, or that has none (see V4), may be claimed by a new token: that
     * is how an admin replaces a runner's credential.
     */
    static void checkRegistration(Connection c, long tokenId, String name) throws SQLException {
        Jdbc.queryOne(c, "select id from api_tokens where id = ? for update", rs -> rs.getLong(1), tokenId);
        Optional<String> own =
                Jdbc.queryOne(c, "select name from runners where token_id = ?", rs -> rs.getString(1), tokenId);
        if (own.isPresent() && !own.get().equals(name)) {
            throw new ApiException.Forbidden("This token belongs to runner '" + own.get() + "'; it cannot register '"
                    + name + "'. Each runner needs a runner token of its own");
        }
        boolean heldByAnother =
                Jdbc.queryOne(c, """
                        select r.token_id is not null and r.token_id <> ? and t.revoked_at is null
                          from runners r left join api_tokens t on t.id = r.token_id
                         where r.name = ? for update of r""", rs -> rs.getBoolean(1), tokenId, name).orElse(false);
        if (heldByAnother) {
            throw new ApiException.Forbidden("Runner '" + name + "' belongs to another runner token; a runner"
                    + " registers again only with its own token (revoke that token to hand the name on)");
        }
    }

    /**
     * Refuses a heartbeat naming a runner this token does not speak for. An unknown runner passes: the heartbeat
     * then answers that the runner must register again.
     */
    static void checkRunner(Connection c, long tokenId, long runnerId) throws SQLException {
        // a list, not Optional: a runner row without a token (none speaks for it) reads as a null owner
        List<Long> owner =
                Jdbc.query(c, "select token_id from runners where id = ?", rs -> Jdbc.longOrNull(rs, 1), runnerId);
        if (!owner.isEmpty() && !Long.valueOf(tokenId).equals(owner.get(0))) {
            throw new ApiException.Forbidden("Runner " + runnerId + " is not the runner of this token");
        }
    }

    /** Refuses a call about an attempt that holds no rank on this token's runner, whatever lease token it shows. */
    static void checkAssigned(Connection c, long tokenId, long attemptId) throws SQLException {
        boolean assigned = Jdbc.queryOne(c, """
                        select exists (select 1 from attempt_runners ar join runners r on r.id = ar.runner_id
                                        where ar.attempt_id = ? and r.token_id = ?)""", rs -> rs.getBoolean(1), attemptId, tokenId)
                .orElse(false);
        if (!assigned) {
            throw new ApiException.Forbidden("Attempt " + attemptId + " is not assigned to the runner of this token");
        }
    }
}
