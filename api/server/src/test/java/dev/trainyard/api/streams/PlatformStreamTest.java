package dev.trainyard.api.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.testing.ApiRequests;
import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The platform-wide stream the dashboard's job table follows: no change a client should hear is skipped. */
@QuarkusTest
class PlatformStreamTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/api/v1/stream/jobs")
    URI streamUri;

    @Test
    void aJobSubmittedTheMomentTheStreamOpensIsAnnounced() throws Exception {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        try (JobEvents events = JobEvents.open(streamUri)) {
            long id = Fixtures.submit(Spec.gpt(project, pool));
            assertThat(events.awaitJobs(Set.of(id), Duration.ofSeconds(10)))
                    .as("announced job ids")
                    .contains(id);
        }
    }

    @Test
    void aChangeCommittedAfterALaterOneIsStillAnnounced() throws Exception {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        long early = Fixtures.submit(Spec.gpt(project, pool));
        try (JobEvents events = JobEvents.open(streamUri);
                Connection slow = Db.connection()) {
            // the slow transaction takes its event id first and commits last
            slow.setAutoCommit(false);
            try (PreparedStatement ps = slow.prepareStatement("""
                    insert into job_events (job_id, at, from_state, to_state, reason, message)
                    values (?, now(), 'QUEUED', 'QUEUED', 'SUBMITTED', 'late commit') returning id""")) {
                ps.setLong(1, early);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
            }
            long later = Fixtures.submit(Spec.gpt(project, pool));
            assertThat(events.awaitJobs(Set.of(later), Duration.ofSeconds(10))).contains(later);
            slow.commit();
            long last = Fixtures.submit(Spec.gpt(project, pool));

            assertThat(events.awaitJobs(Set.of(early, last), Duration.ofSeconds(10)))
                    .as("the late commit's job and the next one")
                    .contains(early, last);
        }
    }

    /** The ids of {@code job} events on an open stream, read on a thread of their own. */
    private static final class JobEvents implements AutoCloseable {
        private final InputStream body;
        private final BlockingQueue<Long> ids = new LinkedBlockingQueue<>();

        private JobEvents(InputStream body) {
            this.body = body;
            Thread reader = new Thread(this::read, "sse-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** Opens the stream; returns once its headers arrived, as a browser's "live" would. */
        static JobEvents open(URI uri) throws IOException, InterruptedException {
            HttpRequest request = HttpRequest.newBuilder(uri)
                    .header("Authorization", "Bearer " + ApiRequests.ADMIN)
                    .header("Accept", "text/event-stream")
                    .build();
            HttpResponse<InputStream> response =
                    HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
            assertThat(response.statusCode()).isEqualTo(200);
            return new JobEvents(response.body());
        }

        /** Waits until every id in {@code wanted} was announced (or time runs out); returns the ids heard meanwhile. */
        Set<Long> awaitJobs(Set<Long> wanted, Duration timeout) throws InterruptedException {
            Set<Long> heard = new HashSet<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!heard.containsAll(wanted)) {
                Long id = ids.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (id == null) {
                    break;
                }
                heard.add(id);
            }
            return heard;
        }

        private void read() {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
                String name = "message";
                String line;
                while ((line = reader.readLine()) != null) {
                    if (line.startsWith("event:")) {
                        name = line.substring(6).trim();
                    } else if (line.startsWith("data:") && name.equals("job")) {
                        JsonNode job = JSON.readTree(line.substring(5));
                        ids.add(job.get("id").asLong());
                    } else if (line.isEmpty()) {
                        name = "message";
                    }
                }
            } catch (IOException e) {
                // the stream was closed
            }
        }

        @Override
        public void close() throws IOException {
            body.close();
        }
    }
}
