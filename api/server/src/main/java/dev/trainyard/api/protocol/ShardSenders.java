package dev.trainyard.api.protocol;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.error.ApiException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Who may send which shard: data-parallel rank r of an attempt writes shard r, so only the runner holding rank r
 * may upload it, and the shard count is the attempt's number of ranks.
 */
final class ShardSenders {

    private ShardSenders() {}

    /** The runner of the calling token that holds the shard's rank in the attempt; refused otherwise. */
    static long runnerOf(Connection c, long tokenId, long attemptId, CheckpointUploads.ShardOf part)
            throws SQLException {
        int ranks = Jdbc.queryOne(
                        c, "select count(*) from attempt_runners where attempt_id = ?", rs -> rs.getInt(1), attemptId)
                .orElse(0);
        if (ranks != part.shards()) {
            throw ApiException.InvalidInput.of(
                    "shards", "attempt " + attemptId + " has " + ranks + " data-parallel ranks, not " + part.shards());
        }
        return Jdbc.queryOne(c, """
                        select ar.runner_id from attempt_runners ar join runners r on r.id = ar.runner_id
                         where ar.attempt_id = ? and ar.rank = ? and r.token_id = ?""", rs -> rs.getLong(1), attemptId, part.shard(), tokenId)
                .orElseThrow(() -> new ApiException.Forbidden("Shard " + part.shard() + " of attempt " + attemptId
                        + " is written by the runner holding rank " + part.shard() + ", not by this one"));
    }
}
