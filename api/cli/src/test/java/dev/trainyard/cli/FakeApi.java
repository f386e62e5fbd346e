package dev.trainyard.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for the API on a loopback port: canned answers per "METHOD /path?query", served in order with the
 * last one repeated. Requests are recorded for assertions.
 */
final class FakeApi implements AutoCloseable {
    record Answer(int status, String contentType, byte[] body) {}

    private final HttpServer server;
    private final Map<String, Deque<Answer>> answers = new HashMap<>();
    final List<String> requests = new ArrayList<>();

    FakeApi() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    FakeApi json(String request, int status, String body) {
        return answer(
                request,
                new Answer(
                        status,
                        status < 400 ? "application/json" : "application/problem+json",
                        body.getBytes(StandardCharsets.UTF_8)));
    }

    FakeApi answer(String request, Answer answer) {
        answers.computeIfAbsent(request, k -> new ArrayDeque<>()).add(answer);
        return this;
    }

    private synchronized void handle(HttpExchange exchange) throws IOException {
        String query = exchange.getRequestURI().getRawQuery();
        String key = exchange.getRequestMethod() + " "
                + exchange.getRequestURI().getRawPath() + (query == null ? "" : "?" + query);
        requests.add(key + " " + exchange.getRequestHeaders().getFirst("Authorization"));
        exchange.getRequestBody().readAllBytes();
        Deque<Answer> queue = answers.get(key);
        Answer a = queue == null
                ? new Answer(
                        404,
                        "application/problem+json",
                        ("{\"title\":\"Not found\",\"status\":404,\"detail\":\"no fake answer for " + key + "\"}")
                                .getBytes(StandardCharsets.UTF_8))
                : queue.size() > 1 ? queue.poll() : queue.peek();
        exchange.getResponseHeaders().add("Content-Type", a.contentType());
        exchange.sendResponseHeaders(a.status(), a.body().length == 0 ? -1 : a.body().length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(a.body());
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
