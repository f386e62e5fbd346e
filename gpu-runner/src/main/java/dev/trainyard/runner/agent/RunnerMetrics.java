package dev.trainyard.runner.agent;

import com.sun.net.httpserver.HttpServer;
import dev.trainyard.runner.engine.StepMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The runner's own Prometheus endpoint ({@code GET /metrics}, text format): the last step time, tokens/s and
 * memory of each attempt training here, so operators see a node's health without asking the API.
 */
final class RunnerMetrics implements AutoCloseable {

    /** The last figures of one attempt. */
    record Last(long jobId, long attemptId, StepMetrics step) {}

    private final Map<Long, Last> attempts = new ConcurrentHashMap<>();
    private final String runner;
    private HttpServer server;

    RunnerMetrics(String runner) {
        this.runner = runner;
    }

    /** Serves on {@code port} of all interfaces; 0 serves nothing. */
    RunnerMetrics listen(int port) throws IOException {
        if (port > 0) {
            server = HttpServer.create(new InetSocketAddress(port), 0);
            server.createContext("/metrics", exchange -> {
                byte[] body = render().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.start();
        }
        return this;
    }

    void step(long jobId, long attemptId, StepMetrics step) {
        attempts.put(attemptId, new Last(jobId, attemptId, step));
    }

    void ended(long attemptId) {
        attempts.remove(attemptId);
    }

    /** The Prometheus text exposition of the current figures. */
    String render() {
        StringBuilder out = new StringBuilder();
        out.append("# HELP trainyard_runner_attempts Attempts training on this runner\n")
                .append("# TYPE trainyard_runner_attempts gauge\n")
                .append("trainyard_runner_attempts{runner=\"")
                .append(runner)
                .append("\"} ")
                .append(attempts.size())
                .append('\n');
        gauge(
                out,
                "trainyard_runner_step_seconds",
                "Wall time of the last step",
                l -> l.step().stepSeconds());
        gauge(
                out,
                "trainyard_runner_tokens_per_second",
                "Throughput of the last step",
                l -> l.step().tokensPerSecond());
        gauge(out, "trainyard_runner_peak_rss_bytes", "Peak resident memory of the runner process", l ->
                (double) l.step().peakRssBytes());
        gauge(out, "trainyard_runner_step", "Last completed step", l ->
                (double) l.step().step());
        return out.toString();
    }

    private void gauge(StringBuilder out, String name, String help, java.util.function.ToDoubleFunction<Last> value) {
        out.append("# HELP ")
                .append(name)
                .append(' ')
                .append(help)
                .append('\n')
                .append("# TYPE ")
                .append(name)
                .append(" gauge\n");
        attempts.values().stream()
                .sorted(java.util.Comparator.comparingLong(Last::attemptId))
                .forEach(l -> out.append(name)
                        .append("{runner=\"")
                        .append(runner)
                        .append("\",job=\"")
                        .append(l.jobId())
                        .append("\",attempt=\"")
                        .append(l.attemptId())
                        .append("\"} ")
                        .append(value.applyAsDouble(l))
                        .append('\n'));
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
        }
    }
}
