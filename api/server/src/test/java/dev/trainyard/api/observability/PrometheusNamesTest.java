package dev.trainyard.api.observability;

import static dev.trainyard.api.testing.ApiRequests.anonymous;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trainyard.api.testing.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Trainyard's own metrics in the API (trainyard_*) follow Prometheus' naming conventions as promtool checks them
 * (a gauge has no _total suffix, units are base units, every family has help). promtool comes with Debian's prometheus package, which .ci/run installs; without it
 * the test is skipped. promtool 2.42 reads only the classic text format, so that is what is asked for.
 */
@QuarkusTest
class PrometheusNamesTest {

    @Test
    void promtoolFindsNoProblemInTheApisMetrics() throws Exception {
        assumeTrue(promtool() != null, "promtool is not installed (Debian package prometheus): naming not checked");
        Fixtures.pool(); // the per-pool gauges appear once a pool exists, at the next background refresh
        String text = "";
        for (long deadline = System.nanoTime() + 30_000_000_000L;
                !text.contains("trainyard_gpus_capacity") && System.nanoTime() < deadline; ) {
            Thread.sleep(500);
            text = anonymous()
                    .accept("text/plain; version=0.0.4")
                    .get("/q/metrics")
                    .then()
                    .statusCode(200)
                    .extract()
                    .asString();
        }
        assertThat(text).contains("trainyard_gpus_capacity{pool=");

        // the framework's own meters (netty_*, http_server_*, system_cpu_count) are Micrometer's names, not ours
        System.out.println("promtool on all of /q/metrics, for information: " + check(text));
        assertThat(check(trainyardOnly(text)))
                .as("promtool check metrics on trainyard_*")
                .isEmpty();
    }

    /** The lines of the exposition about Trainyard's own metric families (samples, HELP and TYPE). */
    static String trainyardOnly(String text) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\n")) {
            String name = line.startsWith("# HELP ") || line.startsWith("# TYPE ") ? line.substring(7) : line;
            if (name.startsWith("trainyard_")) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    /** promtool's complaints about this exposition text; empty when it has none. */
    static String check(String text) throws Exception {
        Process p = new ProcessBuilder(promtool().toString(), "check", "metrics")
                .redirectErrorStream(true)
                .start();
        try (var in = p.getOutputStream()) {
            in.write(text.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return p.exitValue() == 0 ? out : "exit " + p.exitValue() + ": " + out;
    }

    static Path promtool() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "promtool");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
