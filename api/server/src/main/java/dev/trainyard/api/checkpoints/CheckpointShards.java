package dev.trainyard.api.checkpoints;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * SQL of sharded checkpoints: the checkpoint row (UPLOADING until whole) that the first shard of an attempt's step
 * opens, one row per verified shard, and the switch to COMPLETE when the last one arrives.
 */
public final class CheckpointShards {

    private CheckpointShards() {}

    /**
     * The sharded checkpoint of an attempt's step, opened by whichever shard comes first; a later shard must agree
     * on the shard count. Callers hold the attempt row's lock, so two shards cannot both open one.
     */
    public static long open(
            Connection c,
            long jobId,
            long attemptId,
            long step,
            int shards,
            String folder,
            Double evalLoss,
            Instant now)
            throws SQLException {
        Optional<long[]> existing = Jdbc.queryOne(
                c,
                "select id, shard_count from checkpoints where attempt_id = ? and step = ? and shard_count > 1"
                        + " and state <> 'DELETED'",
                rs -> new long[] {rs.getLong(1), rs.getLong(2)},
                attemptId,
                step);
        if (existing.isPresent()) {
            if (existing.get()[1] != shards) {
                throw new ApiException.Conflict(
                        ProblemType.INVALID_STATE,
                        "The checkpoint of step " + step + " of attempt " + attemptId + " has " + existing.get()[1]
                                + " shards, not " + shards);
            }
            return existing.get()[0];
        }
        return Jdbc.queryOne(c, """
                insert into checkpoints (job_id, attempt_id, step, state, path, eval_loss, created_at, shard_count)
                values (?, ?, ?, 'UPLOADING', ?, ?, ?, ?) returning id""", rs -> rs.getLong(1), jobId, attemptId, step, folder, evalLoss, now, shards)
                .orElseThrow();
    }

    /** The SHA-256 a shard was stored with, if it was. */
    public static Optional<String> storedSha256(Connection c, long checkpointId, int shard) throws SQLException {
        return Jdbc.queryOne(
                c,
                "select sha256 from checkpoint_shards where checkpoint_id = ? and shard = ?",
                rs -> rs.getString(1),
                checkpointId,
                shard);
    }

    public static void add(
            Connection c,
            long checkpointId,
            int shard,
            long runnerId,
            String path,
            long bytes,
            String sha256,
            Instant now)
            throws SQLException {
        Jdbc.update(c, """
                insert into checkpoint_shards (checkpoint_id, shard, runner_id, path, size_bytes, sha256, received_at)
                values (?, ?, ?, ?, ?, ?, ?)""", checkpointId, shard, runnerId, path, bytes, sha256, now);
    }

    /**
     * Marks the checkpoint COMPLETE if every shard is stored: its size the shards' sum, its SHA-256 that of the
     * shard list. Returns whether it is complete now.
     */
    public static boolean completeIfWhole(Connection c, long checkpointId, Instant now) throws SQLException {
        List<String> lines = Jdbc.query(
                c,
                "select shard || ' ' || sha256 from checkpoint_shards where checkpoint_id = ? order by shard",
                rs -> rs.getString(1),
                checkpointId);
        return Jdbc.update(c, """
                update checkpoints set state = 'COMPLETE', completed_at = ?, sha256 = ?,
                       size_bytes = (select sum(size_bytes) from checkpoint_shards where checkpoint_id = ?)
                 where id = ? and state = 'UPLOADING' and shard_count = ?""", now, listDigest(lines), checkpointId, checkpointId, lines.size()) > 0;
    }

    /** A stored file to hand out, relative to the checkpoint store, with the digest it must have. */
    public record StoredFile(String path, String sha256) {}

    /**
     * The stored file of a complete checkpoint to hand out, with its digest: the checkpoint's own file, or shard
     * {@code shard} of a sharded one. Asking a whole checkpoint for a shard, or a sharded one for none, is a 400.
     */
    public static StoredFile fileOf(Connection c, CheckpointIndex.Row row, Integer shard) throws SQLException {
        CheckpointView view = row.view();
        if (!view.sharded()) {
            if (shard != null && shard != 0) {
                throw ApiException.InvalidInput.of("shard", "checkpoint " + view.id() + " is whole: it has no shards");
            }
            return new StoredFile(row.path(), view.sha256());
        }
        if (shard == null) {
            throw ApiException.InvalidInput.of(
                    "shard",
                    "checkpoint " + view.id() + " is sharded into " + view.shardCount()
                            + " files: name one with ?shard=0.." + (view.shardCount() - 1));
        }
        CheckpointShardView piece = view.shards().stream()
                .filter(s -> s.shard() == shard)
                .findFirst()
                .orElseThrow(() -> ApiException.InvalidInput.of(
                        "shard", "checkpoint " + view.id() + " has shards 0.." + (view.shardCount() - 1)));
        String path = CheckpointShards.path(c, view.id(), shard).orElseThrow();
        return new StoredFile(path, piece.sha256());
    }

    /** Where a stored shard's file is, relative to the checkpoint store. */
    public static Optional<String> path(Connection c, long checkpointId, int shard) throws SQLException {
        return Jdbc.queryOne(
                c,
                "select path from checkpoint_shards where checkpoint_id = ? and shard = ?",
                rs -> rs.getString(1),
                checkpointId,
                shard);
    }

    private static String listDigest(List<String> lines) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            lines.forEach(line -> digest.update((line + "\n").getBytes(StandardCharsets.UTF_8)));
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
