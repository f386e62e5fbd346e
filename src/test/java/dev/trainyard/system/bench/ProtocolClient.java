package dev.trainyard.system.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.system.support.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The runner protocol and job submission as raw HTTP/1.1 calls to 127.0.0.1, light enough that hundreds of
 * simulated clients fit beside the API on two cores.
 */
final class ProtocolClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One live assignment from a heartbeat answer of the runner {@code runnerId}. */
    record Assignment(long runnerId, long attemptId, long jobId, String leaseToken, String state, String stop) {}

    /** The API answered with an unexpected status. */
    static final class CallFailed extends RuntimeException {
        final int status;

        CallFailed(String what, int status, String body) {
            super(what + " answered " + status + ": " + (body.length() > 300 ? body.substring(0, 300) : body));
            this.status = status;
        }
    }

    private final HttpClient http;
    private final String base;
    private final Platform platform;
    /** Each simulated runner speaks with a runner token of its own, as the platform requires. */
    private final Map<Long, String> authByRunner = new ConcurrentHashMap<>();

    ProtocolClient(Platform platform) {
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        this.base = platform.baseUrl() + "/api/v1";
        this.platform = platform;
    }

    long register(String name, String pool, int devices) {
        StringBuilder d = new StringBuilder();
        for (int i = 0; i < devices; i++) {
            d.append(i == 0 ? "" : ",")
                    .append("{\"index\":")
                    .append(i)
                    .append(",\"kind\":\"cpu\",\"name\":\"sim")
                    .append(i)
                    .append("\"}");
        }
        String auth = "Bearer " + platform.runnerToken(name);
        JsonNode r = post(
                auth,
                "/runner/register",
                "{\"name\":\"" + name + "\",\"host\":\"127.0.0.1\",\"pool\":\"" + pool + "\",\"devices\":[" + d + "]}");
        long id = r.get("runnerId").asLong();
        authByRunner.put(id, auth);
        return id;
    }

    List<Assignment> heartbeat(long runnerId, long waitMs) {
        JsonNode r =
                post(auth(runnerId), "/runner/heartbeat", "{\"runnerId\":" + runnerId + ",\"waitMs\":" + waitMs + "}");
        List<Assignment> out = new ArrayList<>();
        for (JsonNode a : r.get("assignments")) {
            out.add(new Assignment(
                    runnerId,
                    a.get("attemptId").asLong(),
                    a.get("jobId").asLong(),
                    a.get("leaseToken").asText(),
                    a.get("state").asText(),
                    a.hasNonNull("stop") ? a.get("stop").asText() : null));
        }
        return out;
    }

    String start(Assignment a) {
        return post(
                        auth(a.runnerId()),
                        "/runner/attempts/" + a.attemptId() + ":start",
                        "{\"leaseToken\":\"" + a.leaseToken() + "\"}")
                .get("state")
                .asText();
    }

    void end(Assignment a, String outcome, long finalStep) {
        post(
                auth(a.runnerId()),
                "/runner/attempts/" + a.attemptId() + ":end",
                "{\"leaseToken\":\"" + a.leaseToken() + "\",\"outcome\":\"" + outcome + "\",\"finalStep\":" + finalStep
                        + "}");
    }

    /** Posts a metrics batch whose JSON {@code points} array is given; returns the HTTP status. */
    int metrics(Assignment a, String pointsArray) {
        HttpResponse<String> r = send(
                request(auth(a.runnerId()), "/runner/attempts/" + a.attemptId() + "/metrics")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"leaseToken\":\"" + a.leaseToken() + "\",\"points\":" + pointsArray + "}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }

    /** Uploads a file as checkpoint {@code step}; returns the checkpoint's id. */
    long uploadCheckpoint(Assignment a, long step, String sha256, Path file) {
        try {
            HttpRequest req = HttpRequest.newBuilder(
                            URI.create(base + "/runner/attempts/" + a.attemptId() + "/checkpoints/" + step))
                    .header("Authorization", auth(a.runnerId()))
                    .header("Content-Type", "application/octet-stream")
                    .header("X-Lease-Token", a.leaseToken())
                    .header("X-Checksum-Sha256", sha256)
                    .timeout(Duration.ofMinutes(5))
                    .PUT(HttpRequest.BodyPublishers.ofFile(file))
                    .build();
            HttpResponse<String> r = send(req, HttpResponse.BodyHandlers.ofString());
            check("upload", r);
            return JSON.readTree(r.body()).get("id").asLong();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Downloads a checkpoint through the runner endpoint, as the runner of {@code a} resuming it; returns the bytes
     * read and the served SHA-256.
     */
    Download downloadCheckpoint(Assignment a, long checkpointId) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/runner/checkpoints/" + checkpointId + "/content"))
                .header("Authorization", auth(a.runnerId()))
                .header("X-Lease-Token", a.leaseToken())
                .timeout(Duration.ofMinutes(5))
                .GET()
                .build();
        HttpResponse<InputStream> r = send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            throw new CallFailed("download", r.statusCode(), "");
        }
        long bytes = 0;
        byte[] buf = new byte[1 << 20];
        try (InputStream in = r.body()) {
            for (int n; (n = in.read(buf)) >= 0; ) {
                bytes += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Download(bytes, r.headers().firstValue("X-Checksum-Sha256").orElse(""));
    }

    record Download(long bytes, String sha256) {}

    /** Submits a job as {@code token}; returns its id. */
    long submit(String token, String specJson) {
        return post("Bearer " + token, "/jobs", specJson).get("id").asLong();
    }

    private String auth(long runnerId) {
        String auth = authByRunner.get(runnerId);
        if (auth == null) {
            throw new IllegalStateException("runner " + runnerId + " was not registered through this client");
        }
        return auth;
    }

    private JsonNode post(String auth, String path, String body) {
        HttpResponse<String> r = send(
                request(auth, path)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        check(path, r);
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private HttpRequest.Builder request(String auth, String path) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", auth)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(60));
    }

    private static void check(String what, HttpResponse<String> r) {
        if (r.statusCode() / 100 != 2) {
            throw new CallFailed(what, r.statusCode(), r.body());
        }
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(req, handler);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
