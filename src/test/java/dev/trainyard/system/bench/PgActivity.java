package dev.trainyard.system.bench;

import dev.trainyard.system.support.SystemDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples pg_stat_activity of one database every few milliseconds while a benchmark runs: which statements are
 * active and what they wait on. Turned on with -Dbench.pgSample=true; prints the most frequent at the end.
 */
final class PgActivity implements AutoCloseable {
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong samples = new AtomicLong();
    private final Thread thread;
    private final String jdbcUrl;
    private final String db;
    private final long[] before;
    private final long startNanos = System.nanoTime();

    private PgActivity(String jdbcUrl, long periodMs, long maxSeconds) {
        this.jdbcUrl = jdbcUrl;
        this.db = jdbcUrl.substring(jdbcUrl.lastIndexOf('/') + 1);
        this.before = counters();
        long deadline = System.nanoTime() + maxSeconds * 1_000_000_000L;
        thread = new Thread(() -> sample(jdbcUrl, db, periodMs, deadline), "pg-activity");
        thread.setDaemon(true);
        thread.start();
    }

    /** A sampler when -Dbench.pgSample=true, else one that does nothing. */
    static PgActivity maybeStart(String jdbcUrl, long maxSeconds) {
        return Boolean.getBoolean("bench.pgSample") ? new PgActivity(jdbcUrl, 20, maxSeconds) : null;
    }

    private void sample(String jdbcUrl, String db, long periodMs, long deadline) {
        String sql = "select coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-'), "
                + "regexp_replace(left(query, 90), '\\s+', ' ', 'g') from pg_stat_activity where datname = '" + db
                + "' and state = 'active' and pid <> pg_backend_pid() and query not like 'listen%'";
        try (Connection c = SystemDatabase.connect(jdbcUrl);
                Statement s = c.createStatement()) {
            while (!stop.get() && System.nanoTime() < deadline) {
                try (ResultSet rs = s.executeQuery(sql)) {
                    while (rs.next()) {
                        counts.computeIfAbsent(rs.getString(1) + " | " + rs.getString(2), k -> new AtomicLong())
                                .incrementAndGet();
                    }
                }
                samples.incrementAndGet();
                SimulatedRunner.sleep(periodMs);
            }
        } catch (SQLException e) {
            System.out.println("pg_stat_activity sampling stopped: " + e.getMessage());
        }
    }

    /** Commits and rollbacks of the database, and the server's WAL syncs and bytes (pg_stat_wal, PostgreSQL 14+). */
    private long[] counters() {
        try (Connection c = SystemDatabase.connect(jdbcUrl);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select xact_commit, xact_rollback, (select wal_sync from pg_stat_wal), "
                        + "(select wal_bytes::bigint from pg_stat_wal), tup_inserted, tup_updated "
                        + "from pg_stat_database where datname = '" + db + "'")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6)
            };
        } catch (SQLException e) {
            return new long[6];
        }
    }

    @Override
    public void close() {
        stop.set(true);
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long[] after = counters();
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf(
                java.util.Locale.ROOT,
                "PostgreSQL over %.1f s: %d commits (%.0f/s), %d rollbacks, %d WAL"
                        + " syncs (server-wide, %.0f/s), %.1f MB WAL, %d rows inserted, %d rows updated%n",
                seconds,
                after[0] - before[0],
                (after[0] - before[0]) / seconds,
                after[1] - before[1],
                after[2] - before[2],
                (after[2] - before[2]) / seconds,
                (after[3] - before[3]) / 1e6,
                after[4] - before[4],
                after[5] - before[5]);
        System.out.println("PostgreSQL activity: " + samples.get() + " samples of pg_stat_activity; active backends"
                + " per sample by wait event | statement (top 15):");
        counts.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue().get(), a.getValue().get()))
                .limit(15)
                .forEach(e -> System.out.printf(
                        java.util.Locale.ROOT,
                        "  %6.2f  %s%n",
                        e.getValue().get() / (double) Math.max(1, samples.get()),
                        e.getKey()));
    }
}
