package dev.trainyard.api.protocol;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/** The SQL of log ingestion: an attempt's lines, appended in one batch. */
final class LogLines {
    static final int MAX_LINE = 4000;

    private LogLines() {}

    /** Appends the lines, cut to {@link #MAX_LINE} characters; a line without a time gets {@code now}. */
    static void append(Connection c, long jobId, long attemptId, List<RunnerMessages.LogLine> lines, Instant now)
            throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("insert into job_logs (job_id, attempt_id, at, line) values (?, ?, ?, ?)")) {
            for (RunnerMessages.LogLine l : lines) {
                String line = l == null || l.line() == null ? "" : l.line();
                ps.setLong(1, jobId);
                ps.setLong(2, attemptId);
                ps.setTimestamp(3, Timestamp.from(l == null || l.at() == null ? now : l.at()));
                ps.setString(4, line.length() > MAX_LINE ? line.substring(0, MAX_LINE) : line);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
