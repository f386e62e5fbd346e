package dev.trainyard.api.testing;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Makes sure a real PostgreSQL answers and the test database exists before Quarkus starts, and points the
 * datasource at it. Order: TEST_DB_URL if set; else 127.0.0.1:5432; else a private server from {@code run.sh db}.
 * Declared once here, it applies to every {@code @QuarkusTest} of the module.
 */
@QuarkusTestResource(TestDatabase.class)
public class TestDatabase implements QuarkusTestResourceLifecycleManager {
    static final String DATABASE = "trainyard_test";
    static final String LOCAL_SERVER = "jdbc:postgresql://127.0.0.1:5432/";
    static final String USER = "postgres";

    @Override
    public Map<String, String> start() {
        String configured = System.getenv("TEST_DB_URL");
        String url = configured != null && !configured.isBlank() ? configured.trim() : serverUrl() + DATABASE;
        ensureDatabase(url);
        return Map.of("quarkus.datasource.jdbc.url", url);
    }

    @Override
    public void stop() {
        // The server (shared or private) outlives the test run; run.sh owns a private one.
    }

    private static String serverUrl() {
        if (answers(LOCAL_SERVER + "postgres")) {
            return LOCAL_SERVER;
        }
        return baseOf(startPrivateServer());
    }

    private static boolean answers(String url) {
        DriverManager.setLoginTimeout(3);
        try (Connection c = DriverManager.getConnection(url, USER, "")) {
            return c.isValid(3);
        } catch (SQLException e) {
            return false;
        }
    }

    /** Creates the database named in {@code url} unless it exists; safe when several runs race to create it. */
    static void ensureDatabase(String url) {
        String base = baseOf(url);
        String name = databaseOf(url);
        try (Connection c = DriverManager.getConnection(base + "postgres", USER, "")) {
            try (PreparedStatement ps = c.prepareStatement("select 1 from pg_database where datname = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return;
                    }
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("create database \"" + name.replace("\"", "\"\"") + "\"");
            }
        } catch (SQLException e) {
            if (!"42P04".equals(e.getSQLState())) { // duplicate_database: another run created it first
                throw new IllegalStateException(
                        "Cannot create the test database " + name + " at " + base + ": " + e.getMessage(), e);
            }
        }
    }

    /** {@code jdbc:postgresql://host:port/} of a JDBC URL, whatever database and parameters it names. */
    static String baseOf(String url) {
        String prefix = "jdbc:postgresql://";
        if (!url.startsWith(prefix)) {
            throw new IllegalStateException("Not a PostgreSQL JDBC URL: " + url);
        }
        int slash = url.indexOf('/', prefix.length());
        return slash < 0 ? url + "/" : url.substring(0, slash + 1);
    }

    static String databaseOf(String url) {
        String rest = url.substring(baseOf(url).length());
        int q = rest.indexOf('?');
        String name = q < 0 ? rest : rest.substring(0, q);
        if (name.isEmpty()) {
            throw new IllegalStateException("The JDBC URL names no database: " + url);
        }
        return name;
    }

    /**
     * Runs {@code run.sh db trainyard_test} at the repository root: it starts the private PostgreSQL if need be,
     * creates the database, and prints the server's base JDBC URL as its last stdout line.
     */
    private static String startPrivateServer() {
        Path root = Path.of(System.getProperty("user.dir")).resolve("../..").normalize();
        Path script = root.resolve("run.sh");
        if (!Files.isExecutable(script)) {
            throw new IllegalStateException("No PostgreSQL answers at 127.0.0.1:5432 and " + script
                    + " does not exist (or is not executable), so no private one can be started. Start PostgreSQL,"
                    + " or set TEST_DB_URL to a JDBC URL of a database the tests may empty.");
        }
        List<String> lines = new CopyOnWriteArrayList<>();
        try {
            Process p = new ProcessBuilder(script.toString(), "db", DATABASE)
                    .directory(root.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            Thread reader = new Thread(() -> readLines(p, lines), "run.sh-db-stdout");
            reader.setDaemon(true);
            reader.start();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroy();
                throw new IllegalStateException("run.sh db did not finish within 180 s; its output: " + lines);
            }
            reader.join(2000); // a daemon it started may keep stdout open; what was printed is read by now
            String last = lines.stream()
                    .filter(l -> !l.isBlank())
                    .reduce((a, b) -> b)
                    .orElse("")
                    .trim();
            if (p.exitValue() != 0 || !last.startsWith("jdbc:postgresql://")) {
                throw new IllegalStateException("run.sh db failed (exit " + p.exitValue()
                        + ") or did not print a JDBC URL last; its output: " + lines);
            }
            return last;
        } catch (IOException e) {
            throw new IllegalStateException("Cannot run " + script + " db", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while starting PostgreSQL", e);
        }
    }

    private static void readLines(Process p, List<String> lines) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lines.add(line);
            }
        } catch (IOException e) {
            lines.add("(stdout unreadable: " + e.getMessage() + ")");
        }
    }
}
