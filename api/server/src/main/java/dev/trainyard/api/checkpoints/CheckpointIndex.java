package dev.trainyard.api.checkpoints;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.db.Jdbc;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** SQL of the checkpoint index: only COMPLETE rows are real checkpoints; DELETED rows await file removal. */
public final class CheckpointIndex {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The shards as one JSON array per row, so a listing needs no query per checkpoint. */
    private static final String COLUMNS =
            "id, job_id, attempt_id, step, size_bytes, sha256, eval_loss, created_at, path,"
                    + " shard_count, state, (select coalesce(json_agg(json_build_object('shard', s.shard, 'sizeBytes',"
                    + " s.size_bytes, 'sha256', s.sha256) order by s.shard), '[]') from checkpoint_shards s"
                    + " where s.checkpoint_id = checkpoints.id)";

    private CheckpointIndex() {}

    /** A checkpoint row with where its file is (a sharded checkpoint's: the folder of its shards). */
    public record Row(CheckpointView view, String path) {}

    public static long insertComplete(
            Connection c,
            long jobId,
            long attemptId,
            long step,
            String path,
            long bytes,
            String sha256,
            Double evalLoss,
            Instant now)
            throws SQLException {
        return Jdbc.queryOne(
                        c, """
                insert into checkpoints (job_id, attempt_id, step, state, path, size_bytes, sha256, eval_loss,
                                         created_at, completed_at)
                values (?, ?, ?, 'COMPLETE', ?, ?, ?, ?, ?, ?) returning id""", rs -> rs.getLong(1), jobId, attemptId, step, path, bytes, sha256, evalLoss, now, now)
                .orElseThrow();
    }

    public static List<Row> complete(Connection c, long jobId) throws SQLException {
        return Jdbc.query(
                c,
                "select " + COLUMNS + " from checkpoints where job_id = ? and state = 'COMPLETE' "
                        + "order by step desc, id desc",
                CheckpointIndex::row,
                jobId);
    }

    public static Optional<Row> find(Connection c, long jobId, long checkpointId) throws SQLException {
        return Jdbc.queryOne(
                c,
                "select " + COLUMNS + " from checkpoints where id = ? and job_id = ? " + "and state = 'COMPLETE'",
                CheckpointIndex::row,
                checkpointId,
                jobId);
    }

    public static Optional<Row> findAny(Connection c, long checkpointId) throws SQLException {
        return Jdbc.queryOne(
                c,
                "select " + COLUMNS + " from checkpoints where id = ? and state = 'COMPLETE'",
                CheckpointIndex::row,
                checkpointId);
    }

    /**
     * Applies a job's retention: keeps the newest {@code keepLast}, the best by eval loss when asked, and any
     * checkpoint a live attempt resumes from; marks the rest DELETED (files go in {@link #sweep}).
     */
    public static int retain(Connection c, long jobId, int keepLast, boolean keepBest) throws SQLException {
        return Jdbc.update(c, """
                update checkpoints set state = 'DELETED', completed_at = null
                 where job_id = ? and state = 'COMPLETE'
                   and id not in (select id from checkpoints where job_id = ? and state = 'COMPLETE'
                                   order by step desc, id desc limit ?)
                   and (not ? or id is distinct from (select id from checkpoints where job_id = ? and state = 'COMPLETE'
                                   and eval_loss is not null order by eval_loss, step desc limit 1))
                   and id not in (select resume_checkpoint_id from attempts
                                   where job_id = ? and ended_at is null and resume_checkpoint_id is not null)""", jobId, jobId, keepLast, keepBest, jobId, jobId);
    }

    /**
     * Marks DELETED the sharded checkpoints of a job still missing shards below its newest complete step: each
     * process uploads its shards in step order, so a shard that has not come by then never will (its process died).
     */
    public static int abandonOvertaken(Connection c, long jobId) throws SQLException {
        return Jdbc.update(c, """
                update checkpoints set state = 'DELETED'
                 where job_id = ? and state = 'UPLOADING' and shard_count > 1
                   and step < (select max(step) from checkpoints where job_id = ? and state = 'COMPLETE')""", jobId, jobId);
    }

    /** Marks every checkpoint of a job DELETED. */
    public static int deleteAll(Connection c, long jobId) throws SQLException {
        return Jdbc.update(
                c,
                "update checkpoints set state = 'DELETED', completed_at = null "
                        + "where job_id = ? and state in ('COMPLETE', 'UPLOADING')",
                jobId);
    }

    /** Paths of DELETED rows, whose files are to be removed before the rows are. */
    public static List<Row> deleted(Connection c, int limit) throws SQLException {
        return Jdbc.query(
                c,
                "select " + COLUMNS + " from checkpoints where state = 'DELETED' order by id limit ?",
                CheckpointIndex::row,
                limit);
    }

    public static void forget(Connection c, long checkpointId) throws SQLException {
        Jdbc.update(c, "delete from checkpoints where id = ? and state = 'DELETED'", checkpointId);
    }

    /** An attempt's newest checkpoint of a step in any state but DELETED. */
    public static Optional<Row> ofAttemptStep(Connection c, long attemptId, long step) throws SQLException {
        return Jdbc.queryOne(
                c,
                "select " + COLUMNS + " from checkpoints where attempt_id = ? and step = ? and state <> 'DELETED'"
                        + " order by id desc limit 1",
                CheckpointIndex::row,
                attemptId,
                step);
    }

    /** A checkpoint by id in any state but DELETED: a sharded one may still be UPLOADING. */
    public static Optional<Row> findLive(Connection c, long checkpointId) throws SQLException {
        return Jdbc.queryOne(
                c,
                "select " + COLUMNS + " from checkpoints where id = ? and state <> 'DELETED'",
                CheckpointIndex::row,
                checkpointId);
    }

    private static Row row(ResultSet rs) throws SQLException {
        double eval = rs.getDouble(7);
        Double evalLoss = rs.wasNull() ? null : eval;
        long size = rs.getLong(5);
        int shardCount = rs.getInt(10);
        List<CheckpointShardView> shards = shardCount == 1 ? List.of() : shards(rs.getString(12));
        if (shardCount > 1 && !"COMPLETE".equals(rs.getString(11))) {
            size = shards.stream().mapToLong(CheckpointShardView::sizeBytes).sum();
        }
        return new Row(
                new CheckpointView(
                        rs.getLong(1),
                        rs.getLong(2),
                        rs.getLong(3),
                        rs.getLong(4),
                        size,
                        rs.getString(6),
                        evalLoss,
                        Jdbc.instant(rs, 8),
                        shardCount,
                        "COMPLETE".equals(rs.getString(11)),
                        shards),
                rs.getString(9));
    }

    private static List<CheckpointShardView> shards(String json) {
        try {
            return List.of(JSON.readValue(json, CheckpointShardView[].class));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable shard list " + json, e);
        }
    }
}
