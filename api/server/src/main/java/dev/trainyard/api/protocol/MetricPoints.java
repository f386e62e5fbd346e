package dev.trainyard.api.protocol;

import dev.trainyard.api.db.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import org.postgresql.PGConnection;

/** The SQL of metrics ingestion: a batch's points, and the job's progress. */
final class MetricPoints {

    private MetricPoints() {}

    /**
     * One statement for the whole batch (arrays bound as three parameters), then the job's progress, touched
     * only when it grows so that re-sent batches and lagging ranks take no lock on the job row.
     */
    static void upsert(Connection c, FencedAttempt a, MetricColumns columns, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                insert into metric_points (job_id, attempt_id, step, name, value, at)
                select ?, ?, p.step, p.name, p.value, ?
                  from unnest(cast(? as bigint[]), cast(? as text[]), cast(? as float8[])) as p (step, name, value)
                on conflict (job_id, name, step) do update
                   set value = excluded.value, attempt_id = excluded.attempt_id, at = excluded.at""")) {
            ps.setLong(1, a.jobId());
            ps.setLong(2, a.attemptId());
            ps.setTimestamp(3, Timestamp.from(now));
            PGConnection pg = c.unwrap(PGConnection.class);
            ps.setArray(4, pg.createArrayOf("int8", columns.steps()));
            ps.setArray(5, pg.createArrayOf("text", columns.names()));
            ps.setArray(6, pg.createArrayOf("float8", columns.values()));
            ps.executeUpdate();
        }
        Jdbc.update(
                c,
                "update jobs set last_step = ? where id = ? and last_step < ?",
                columns.maxStep(),
                a.jobId(),
                columns.maxStep());
    }
}
