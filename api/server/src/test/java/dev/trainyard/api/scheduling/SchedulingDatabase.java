package dev.trainyard.api.scheduling;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;

/**
 * A private PostgreSQL database for the scheduling and lifecycle integration tests, apart from the
 * {@code @QuarkusTest} one: dropped, created and migrated once per test JVM, emptied before each test. The
 * server is TEST_DB_URL's when that is set, else 127.0.0.1:5432.
 */
public final class SchedulingDatabase {
    /** Suffixed with a hash of this checkout's path: two checkouts testing on one server never drop each other's. */
    static final String NAME = "trainyard_sched_it_"
            + Integer.toHexString(Path.of(System.getProperty("user.dir"))
                            .toAbsolutePath()
                            .normalize()
                            .hashCode()
                    & 0xfffffff);

    static final String USER = "postgres";
    private static String url;

    private SchedulingDatabase() {}

    /** A new connection (autocommit) to the migrated database. */
    public static Connection connect() throws SQLException {
        return DriverManager.getConnection(url(), USER, "");
    }

    /**
     * Removes every row, so each test starts from an empty, migrated schema. Deletes in one transaction: on these
     * few rows that is much quicker than a TRUNCATE, which replaces every table's files.
     */
    public static void empty() throws SQLException {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            for (String table : new String[] {
                "cost_ledger",
                "checkpoints",
                "job_logs",
                "metric_points",
                "job_events",
                "attempt_runners",
                "attempts",
                "jobs",
                "runners",
                "api_tokens",
                "pools",
                "projects",
                "leases"
            }) {
                s.execute("delete from " + table);
            }
            c.commit();
        }
    }

    private static synchronized String url() throws SQLException {
        if (url == null) {
            url = create();
        }
        return url;
    }

    private static String create() throws SQLException {
        String server = server();
        try (Connection c = DriverManager.getConnection(server + "postgres", USER, "");
                Statement s = c.createStatement()) {
            s.execute("drop database if exists " + NAME + " with (force)");
            s.execute("create database " + NAME);
        }
        String database = server + NAME;
        Path migrations = Path.of(System.getProperty("user.dir"))
                .resolve("../../db-migrations")
                .normalize();
        Flyway.configure()
                .dataSource(database, USER, "")
                .locations("filesystem:" + migrations)
                .load()
                .migrate();
        return database;
    }

    /** {@code jdbc:postgresql://host:port/} of TEST_DB_URL, or of the local server. */
    private static String server() {
        String configured = System.getenv("TEST_DB_URL");
        String prefix = "jdbc:postgresql://";
        if (configured == null || configured.isBlank() || !configured.trim().startsWith(prefix)) {
            return prefix + "127.0.0.1:5432/";
        }
        String u = configured.trim();
        int slash = u.indexOf('/', prefix.length());
        return slash < 0 ? u + "/" : u.substring(0, slash + 1);
    }
}
