package dev.trainyard.runner.agent;

import dev.trainyard.client.ApiClient;
import dev.trainyard.client.ApiException;
import dev.trainyard.client.api.RunnerProtocolApi;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * The agent's connection to the API: the generated client with a bearer token, timeouts, and a retry policy
 * that tells transient failures (network, 5xx) from answers that must not be retried (4xx, fencing).
 */
final class ApiSession {

    private final RunnerProtocolApi api;
    private final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final String baseUri;
    private final String token;

    ApiSession(String baseUri, String token) {
        this.baseUri = baseUri.replaceAll("/+$", "");
        this.token = token;
        URI uri = URI.create(this.baseUri);
        ApiClient client = new ApiClient();
        client.updateBaseUri(this.baseUri);
        client.setConnectTimeout(Duration.ofSeconds(5));
        client.setReadTimeout(Duration.ofSeconds(60));
        client.setRequestInterceptor(b -> b.header("Authorization", "Bearer " + token));
        this.api = new RunnerProtocolApi(client);
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("--api must be an absolute URL, was " + baseUri);
        }
    }

    RunnerProtocolApi api() {
        return api;
    }

    String baseUri() {
        return baseUri;
    }

    String token() {
        return token;
    }

    /**
     * Streams a checkpoint file to the API. The generated client (library "native") serialises a binary body
     * as JSON instead of sending the file's bytes, so this one call goes through the JDK client directly, with
     * the same base URI, token and error semantics.
     */
    void uploadCheckpoint(long attemptId, AttemptReporter.PendingCheckpoint c, String leaseToken) throws ApiException {
        List<String> query = new java.util.ArrayList<>();
        if (c.evalLoss() != null) {
            query.add("evalLoss=" + c.evalLoss());
        }
        if (c.shards() > 1) {
            // this process's shard of a sharded checkpoint: the API completes it when every rank's has come
            query.add("shard=" + c.shard());
            query.add("shards=" + c.shards());
        }
        String path = "/api/v1/runner/attempts/" + attemptId + "/checkpoints/" + c.step()
                + (query.isEmpty() ? "" : "?" + String.join("&", query));
        upload(path, c.file(), c.sha256(), leaseToken);
    }

    /** Streams one file of the final export to the API, as {@link #uploadCheckpoint} does a checkpoint. */
    void uploadExportFile(long attemptId, String name, java.nio.file.Path file, String sha256, String leaseToken)
            throws ApiException {
        upload("/api/v1/runner/attempts/" + attemptId + "/export/" + name, file, sha256, leaseToken);
    }

    private void upload(String path, java.nio.file.Path file, String sha256, String leaseToken) throws ApiException {
        try {
            java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(URI.create(baseUri + path))
                    .header("Authorization", "Bearer " + token)
                    .header("X-Lease-Token", leaseToken)
                    .header("X-Checksum-Sha256", sha256)
                    .header("Content-Type", "application/octet-stream")
                    .timeout(Duration.ofMinutes(30))
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofFile(file))
                    .build();
            java.net.http.HttpResponse<String> response =
                    http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new ApiException(
                        "upload of " + file.getFileName() + " answered " + response.statusCode(),
                        response.statusCode(),
                        response.headers(),
                        response.body());
            }
        } catch (java.io.IOException e) {
            throw new ApiException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(e);
        }
    }

    /** A call of the generated client. */
    @FunctionalInterface
    interface Call<T> {
        T run() throws ApiException;
    }

    /** True for failures worth retrying: no answer at all, or a server error. */
    static boolean transientFailure(ApiException e) {
        return e.getCode() == 0 || e.getCode() >= 500;
    }

    /** The API said this attempt is not current any more: the agent must drop it. */
    static boolean fenced(ApiException e) {
        return e.getCode() == 409;
    }

    /**
     * Calls until it succeeds, backing off up to {@code patience}; rethrows a non-transient failure at once and
     * the last transient one when patience runs out.
     */
    static <T> T withRetries(Call<T> call, Duration patience) throws ApiException {
        long deadline = System.nanoTime() + patience.toNanos();
        long backoffMs = 100;
        while (true) {
            try {
                return call.run();
            } catch (ApiException e) {
                if (!transientFailure(e) || System.nanoTime() > deadline) {
                    throw e;
                }
                sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 2_000);
            }
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
