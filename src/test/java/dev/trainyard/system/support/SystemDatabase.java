package dev.trainyard.system.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * A fresh PostgreSQL database for one test class on a real server: the one at 127.0.0.1:5432 (or the server of
 * TEST_DB_URL), or, when nothing answers, the private server that {@code run.sh db} starts.
 */
public final class SystemDatabase {
    private static String serverUrl;

    private SystemDatabase() {}

    /**
     * Drops and creates database {@code name}, suffixed with a hash of this checkout's path so that two
     * checkouts testing on one server at the same time never drop each other's databases; returns its URL.
     */
    public static synchronized String fresh(String name) {
        name = name + "_" + Integer.toHexString(Repository.root().toString().hashCode() & 0xfffffff);
        String base = server();
        try (Connection c = DriverManager.getConnection(base + "postgres", "postgres", "");
                Statement s = c.createStatement()) {
            s.execute("drop database if exists " + name + " with (force)");
            s.execute("create database " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name + " on " + base, e);
        }
        return base + name;
    }

    /** Plain JDBC to a test database, for assertions that look at rows directly. */
    public static Connection connect(String jdbcUrl) throws SQLException {
        return DriverManager.getConnection(jdbcUrl, "postgres", "");
    }

    /** The server's base URL, ending in '/'. */
    static String server() {
        if (serverUrl != null) {
            return serverUrl;
        }
        String env = System.getenv("TEST_DB_URL");
        String candidate =
                env != null ? env.substring(0, env.lastIndexOf('/') + 1) : "jdbc:postgresql://127.0.0.1:5432/";
        if (answers(candidate)) {
            serverUrl = candidate;
            return serverUrl;
        }
        serverUrl = startPrivateServer();
        return serverUrl;
    }

    private static boolean answers(String base) {
        try (Connection c = DriverManager.getConnection(base + "postgres", "postgres", "")) {
            return c.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    private static String startPrivateServer() {
        Path script = Repository.root().resolve("run.sh");
        try {
            Process p = new ProcessBuilder(List.of("bash", script.toString(), "db"))
                    .redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0 || out.isEmpty()) {
                throw new IllegalStateException("'run.sh db' could not provide a PostgreSQL server");
            }
            String last = out.substring(out.lastIndexOf('\n') + 1).trim();
            return last.endsWith("/") ? last : last.substring(0, last.lastIndexOf('/') + 1);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
