package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Repository;
import dev.trainyard.system.support.SystemDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * {@code ./run.sh} as an operator runs it: a runner that dies is started again while the API keeps serving, and
 * stopping the platform stops the runner first, on purpose, so it leaves OFFLINE instead of being judged lost.
 */
class RunScriptTest {

    @Test
    void aDeadRunnerIsStartedAgainAndStoppingThePlatformLetsTheRunnerLeave() throws Exception {
        Path home = Repository.output("runsh-home");
        deleteTree(home);
        Path out = Repository.output("runsh").resolve("run.sh.out");
        String db = SystemDatabase.fresh("trainyard_sys_runsh");
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(
                        "bash", Repository.root().resolve("run.sh").toString())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        pb.environment().put("TRAINYARD_HOME", home.toString());
        pb.environment().put("DB_URL", db);
        pb.environment().put("PORT", Integer.toString(port));
        pb.environment().put("TRAINYARD_TAIL_LOGS", "0");
        pb.environment().put("TRAINYARD_RUNNER_DEVICES", "1");
        Process script = pb.start();
        try {
            await("the platform is up", Duration.ofMinutes(3), () -> read(out).contains("Trainyard is up"));
            Path pidFile = home.resolve("run/runner.pid");
            long first = Long.parseLong(Files.readString(pidFile).trim());
            await("the runner registered", Duration.ofSeconds(60), () -> "ACTIVE".equals(runnerState(db)));

            ProcessHandle.of(first).ifPresent(ProcessHandle::destroyForcibly);

            await("a new runner was started", Duration.ofSeconds(60), () -> {
                long now = pid(pidFile);
                return now != 0
                        && now != first
                        && ProcessHandle.of(now).map(ProcessHandle::isAlive).orElse(false);
            });
            assertThat(ready(port)).as("the API kept serving").isEqualTo(200);
            assertThat(script.isAlive()).isTrue();
            long second = pid(pidFile);
            // the new runner registers under the same name: the record is ACTIVE again once it did
            await(
                    "the new runner registered",
                    Duration.ofSeconds(60),
                    () -> read(home.resolve("logs/runner.log")).contains("registered as runner"));

            script.destroy(); // SIGTERM, as Ctrl-C's trap does the same
            assertThat(script.waitFor(60, TimeUnit.SECONDS))
                    .as("run.sh stopped")
                    .isTrue();
            assertThat(runnerState(db))
                    .as("the runner left instead of vanishing")
                    .isEqualTo("OFFLINE");
            assertThat(ProcessHandle.of(second).map(ProcessHandle::isAlive).orElse(false))
                    .isFalse();
        } finally {
            if (script.isAlive()) {
                script.destroy();
                script.waitFor(60, TimeUnit.SECONDS);
            }
        }
    }

    private static String runnerState(String db) {
        try (Connection c = SystemDatabase.connect(db);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select state from runners order by id desc limit 1")) {
            return rs.next() ? rs.getString(1) : null;
        } catch (java.sql.SQLException e) {
            return null;
        }
    }

    private static int ready(int port) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                .build();
        return HttpClient.newHttpClient()
                .send(request, HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private static long pid(Path file) {
        try {
            return Long.parseLong(Files.readString(file).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline)
                    .as(what + " within " + timeout)
                    .isTrue();
            Platform.sleep(250);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder())
                    .filter(p -> !p.equals(dir))
                    .forEach(p -> p.toFile().delete());
        }
    }
}
