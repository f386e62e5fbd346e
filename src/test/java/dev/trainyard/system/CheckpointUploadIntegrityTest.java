package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.client.model.Job;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A checkpoint whose bytes do not match the SHA-256 its runner declared is refused, stored nowhere, and never
 * offered to a later attempt to resume from. The runner here speaks the protocol by hand, as a broken or
 * malicious runner could.
 */
class CheckpointUploadIntegrityTest {
    static Platform platform;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() {
        platform = Platform.start("integrity");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void aCorruptedUploadIsRefusedAndNeverUsedForAResume() throws Exception {
        long runnerId =
                post("hand", "/api/v1/runner/register", """
                {"name":"hand","host":"localhost","pool":"cpu","devices":[{"index":0,"kind":"cpu","name":"cpu:0"}]}""").get("runnerId").asLong();
        Job job = platform.jobs().submitJob(Specs.tinyGpt("integrity", 1, 50, 10), null);
        JsonNode assignment = awaitAssignment("hand", runnerId);
        long attempt = assignment.get("attemptId").asLong();
        String lease = assignment.get("leaseToken").asText();
        post("hand", "/api/v1/runner/attempts/" + attempt + ":start", "{\"leaseToken\":\"" + lease + "\"}");

        byte[] body = "not really a checkpoint".getBytes();
        HttpResponse<String> refused = HTTP.send(
                HttpRequest.newBuilder(URI.create(
                                platform.baseUrl() + "/api/v1/runner/attempts/" + attempt + "/checkpoints/10"))
                        .header("Authorization", "Bearer " + platform.runnerToken("hand"))
                        .header("X-Lease-Token", lease)
                        .header("X-Checksum-Sha256", "0".repeat(64))
                        .header("Content-Type", "application/octet-stream")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(refused.body()).contains("checksum-mismatch");
        assertThat(platform.jobs().listJobCheckpoints(job.getId())).isEmpty();

        // the runner dies; the job is resumed by the next runner, which must start from scratch
        Job requeued = platform.awaitJob(
                job.getId(), j -> "QUEUED".equals(j.getState()) && j.getRestarts() == 1, Duration.ofSeconds(60));
        assertThat(requeued.getRestarts()).isEqualTo(1);
        long second =
                post("hand-2", "/api/v1/runner/register", """
                {"name":"hand-2","host":"localhost","pool":"cpu","devices":[{"index":0,"kind":"cpu","name":"cpu:0"}]}""").get("runnerId").asLong();
        JsonNode next = awaitAssignment("hand-2", second);
        assertThat(next.get("attemptId").asLong()).isNotEqualTo(attempt);
        // absent values are left out of answers, never sent as null (api/openapi/README.md)
        assertThat(next.has("resumeFrom")).as("nothing to resume from").isFalse();
    }

    private static JsonNode awaitAssignment(String runner, long runnerId) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode answer =
                    post(runner, "/api/v1/runner/heartbeat", "{\"runnerId\":" + runnerId + ",\"waitMs\":2000}");
            if (answer.get("assignments").size() > 0) {
                return answer.get("assignments").get(0);
            }
        }
        throw new AssertionError("no assignment for runner " + runnerId);
    }

    /** Posts as the runner named {@code runner}, with its own runner token. */
    private static JsonNode post(String runner, String path, String json) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(platform.baseUrl() + path))
                        .header("Authorization", "Bearer " + platform.runnerToken(runner))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + " answered " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }
}
