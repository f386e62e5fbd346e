package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Job;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import dev.trainyard.system.support.SystemDatabase;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two API replicas on one database: a job submitted to one is scheduled (by whichever holds the lease), trained
 * by a runner that talks to the other, and followed live through the other's event stream.
 */
class ReplicasTest {
    static Platform platform;
    static String replica;

    @BeforeAll
    static void start() {
        platform = Platform.start("replicas");
        replica = platform.startReplica();
        platform.startRunner("node-a", 2, replica);
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void aJobSubmittedToOneReplicaIsFollowedLiveOnTheOther() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest streamRequest = HttpRequest.newBuilder(URI.create(replica + "/api/v1/stream/jobs"))
                .header("Authorization", "Bearer " + Platform.ADMIN_TOKEN)
                .build();
        HttpResponse<InputStream> stream = http.send(streamRequest, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.statusCode()).isEqualTo(200);

        Job job = platform.jobs().submitJob(Specs.tinyGpt("replicated", 2, 40, 20), null);
        CompletableFuture<Boolean> sawSuccess = CompletableFuture.supplyAsync(
                () -> readUntil(stream.body(), "\"id\":" + job.getId() + ",", "\"state\":\"SUCCEEDED\""));

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));
        assertThat(done.getState()).isEqualTo("SUCCEEDED");
        assertThat(sawSuccess.get(30, TimeUnit.SECONDS))
                .as("the other replica's stream saw it succeed")
                .isTrue();
        try (Connection c = SystemDatabase.connect(platform.dbUrl());
                ResultSet rs = c.createStatement().executeQuery("select count(*) from leases")) {
            rs.next();
            assertThat(rs.getLong(1))
                    .as("one scheduler lease for both replicas")
                    .isEqualTo(1);
        }
        stream.body().close();
    }

    /** Reads SSE lines until a data line holds both fragments; false if the stream ends first. */
    private static boolean readUntil(InputStream body, String a, String b) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("data:") && line.contains(a) && line.contains(b)) {
                    return true;
                }
            }
            return false;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
