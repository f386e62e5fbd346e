package dev.trainyard.runner.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reporter against a stand-in for the API's two report endpoints on 127.0.0.1: a batch the API refuses is
 * dropped, so later reports still arrive, and log lines are made storable before they are sent.
 */
class AttemptReporterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpServer server;
    private final AtomicInteger refuseNext = new AtomicInteger();
    private final List<JsonNode> accepted = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/runner/attempts/7/", this::answer);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void answer(HttpExchange exchange) throws IOException {
        JsonNode body = JSON.readTree(exchange.getRequestBody());
        boolean refuse = refuseNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        byte[] answer = (refuse ? "{\"type\":\"/problems/invalid-input\",\"title\":\"Invalid\",\"status\":400}" : "{}")
                .getBytes(StandardCharsets.UTF_8);
        if (!refuse) {
            accepted.add(body);
        }
        exchange.getResponseHeaders().add("Content-Type", refuse ? "application/problem+json" : "application/json");
        exchange.sendResponseHeaders(refuse ? 400 : 200, answer.length);
        exchange.getResponseBody().write(answer);
        exchange.close();
    }

    private AttemptReporter reporter() {
        String api = "http://127.0.0.1:" + server.getAddress().getPort();
        return new AttemptReporter(new ApiSession(api, "ty_test"), 7, "lease", new AttemptControl());
    }

    @Test
    void aRefusedMetricsBatchIsDroppedAndLaterPointsStillArrive() {
        refuseNext.set(1);
        try (AttemptReporter reporter = reporter()) {
            reporter.metric(1, "loss", 5.0);
            awaitDrained(reporter);
            reporter.metric(2, "loss", 4.0);
            assertThat(awaitDrained(reporter)).as("everything sent or dropped").isTrue();
        }
        assertThat(accepted).hasSize(1);
        assertThat(accepted.get(0).path("points").get(0).path("step").asLong()).isEqualTo(2);
        assertThat(accepted.get(0).path("points")).hasSize(1);
    }

    @Test
    void aRefusedLogBatchIsDroppedAndLaterLinesStillArrive() {
        refuseNext.set(1);
        try (AttemptReporter reporter = reporter()) {
            reporter.log("refused");
            awaitDrained(reporter);
            reporter.log("kept");
            assertThat(awaitDrained(reporter)).isTrue();
        }
        assertThat(accepted).hasSize(1);
        assertThat(accepted.get(0).path("lines").get(0).path("line").asText()).isEqualTo("kept");
    }

    @Test
    void logLinesLoseWhatTheApiWouldRefuse() {
        assertThat(AttemptReporter.storable("a\u0000b\tc\u0007d")).isEqualTo("a\uFFFDb\tc\uFFFDd");
        assertThat(AttemptReporter.storable("lone \uD800 surrogate, pair \uD83D\uDE00"))
                .isEqualTo("lone \uFFFD surrogate, pair \uD83D\uDE00");
        assertThat(AttemptReporter.storable("x".repeat(AttemptReporter.MAX_LINE_CHARS + 10)))
                .hasSize(AttemptReporter.MAX_LINE_CHARS);
        assertThat(AttemptReporter.storable(null)).isEmpty();
    }

    private static boolean awaitDrained(AttemptReporter reporter) {
        return reporter.drain(Duration.ofSeconds(10));
    }
}
