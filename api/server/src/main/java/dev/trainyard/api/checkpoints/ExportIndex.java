package dev.trainyard.api.checkpoints;

import dev.trainyard.api.db.Jdbc;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** SQL of the final exports: one verified file per job and name, replaced when a later attempt uploads it again. */
public final class ExportIndex {
    public static final String WEIGHTS = "model.safetensors";
    public static final String CONFIG = "config.json";
    public static final String SCRIPT = "model.pt";

    /** The files an export may hold; the engine writes the first two always, model.pt for TorchScript models. */
    public static final Set<String> NAMES = Set.of(WEIGHTS, CONFIG, SCRIPT);

    /** The files without which an attempt may not report success. */
    public static final List<String> REQUIRED = List.of(WEIGHTS, CONFIG);

    private static final String COLUMNS = "name, attempt_id, size_bytes, sha256, created_at, path";

    private ExportIndex() {}

    /** An export file with where it is stored. */
    public record Row(ExportFileView view, String path) {}

    /** Records a verified file, replacing an earlier attempt's file of the same name. */
    public static void upsert(
            Connection c, long jobId, long attemptId, String name, String path, long bytes, String sha256, Instant now)
            throws SQLException {
        Jdbc.update(c, """
                insert into job_exports (job_id, name, attempt_id, path, size_bytes, sha256, created_at)
                values (?, ?, ?, ?, ?, ?, ?)
                on conflict (job_id, name) do update
                   set attempt_id = excluded.attempt_id, path = excluded.path, size_bytes = excluded.size_bytes,
                       sha256 = excluded.sha256, created_at = excluded.created_at""", jobId, name, attemptId, path, bytes, sha256, now);
    }

    public static List<Row> files(Connection c, long jobId) throws SQLException {
        return Jdbc.query(
                c, "select " + COLUMNS + " from job_exports where job_id = ? order by name", ExportIndex::row, jobId);
    }

    public static Optional<Row> find(Connection c, long jobId, String name) throws SQLException {
        return Jdbc.queryOne(
                c,
                "select " + COLUMNS + " from job_exports where job_id = ? and name = ?",
                ExportIndex::row,
                jobId,
                name);
    }

    /** The required files this attempt has not uploaded (empty when its export is complete). */
    public static List<String> missingFor(Connection c, long attemptId) throws SQLException {
        List<String> uploaded =
                Jdbc.query(c, "select name from job_exports where attempt_id = ?", rs -> rs.getString(1), attemptId);
        return REQUIRED.stream().filter(n -> !uploaded.contains(n)).toList();
    }

    private static Row row(ResultSet rs) throws SQLException {
        return new Row(
                new ExportFileView(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4), Jdbc.instant(rs, 5)),
                rs.getString(6));
    }
}
