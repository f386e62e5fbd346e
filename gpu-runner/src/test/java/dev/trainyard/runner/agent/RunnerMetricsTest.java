package dev.trainyard.runner.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.StepMetrics;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunnerMetricsTest {

    private static StepMetrics step(long step, double tokensPerSecond) {
        return new StepMetrics(
                step, 2.5, 1e-3, 0.7, tokensPerSecond, 0.25, List.of(0.1, 0.1), 0.2, 300_000_000L, List.of(0.1, 0.1));
    }

    @Test
    void servesTheLastStepOfEachAttemptInPrometheusTextFormat() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (RunnerMetrics metrics = new RunnerMetrics("node-a").listen(port)) {
            metrics.step(7, 70, step(12, 1500.0));
            metrics.step(7, 70, step(13, 1600.0));
            metrics.step(8, 80, step(3, 900.0));
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());

            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
            assertThat(r.body())
                    .contains("trainyard_runner_attempts{runner=\"node-a\"} 2")
                    .contains("trainyard_runner_tokens_per_second{runner=\"node-a\",job=\"7\",attempt=\"70\"} 1600.0")
                    .contains("trainyard_runner_step{runner=\"node-a\",job=\"8\",attempt=\"80\"} 3.0")
                    .contains("# TYPE trainyard_runner_peak_rss_bytes gauge");
        }
    }

    /** Prometheus' naming conventions as promtool (Debian's prometheus package) checks them; skipped without it. */
    @Test
    void promtoolFindsNoProblemInTheRunnersMetrics() throws Exception {
        java.nio.file.Path promtool = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, "promtool"))) {
                promtool = java.nio.file.Path.of(dir, "promtool");
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(
                promtool != null, "promtool is not installed (Debian package prometheus): naming not checked");
        RunnerMetrics metrics = new RunnerMetrics("node-a");
        metrics.step(7, 70, step(12, 1500.0));
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics")
                .redirectErrorStream(true)
                .start();
        try (var in = p.getOutputStream()) {
            in.write(metrics.render().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue() + " " + out.trim()).isEqualTo("0 ");
    }

    @Test
    void forgetsAnAttemptThatEnded() {
        RunnerMetrics metrics = new RunnerMetrics("node-a");
        metrics.step(7, 70, step(12, 1500.0));
        metrics.ended(70);
        assertThat(metrics.render())
                .contains("trainyard_runner_attempts{runner=\"node-a\"} 0")
                .doesNotContain("attempt=\"70\"");
    }
}
