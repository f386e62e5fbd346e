package dev.trainyard.api.streams;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static org.assertj.core.api.Assertions.assertThat;

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
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A stream is only as good as its token: revoking the token ends the streams it opened, on a real connection. */
@QuarkusTest
class RevokedTokenStreamTest {
    private static final Duration FEW_SECONDS = Duration.ofSeconds(8);

    @TestHTTPResource("/api/v1/stream/jobs")
    URI platformUri;

    @TestHTTPResource("/api/v1/jobs")
    URI jobsUri;

    @Test
    void revokingATokenEndsItsJobAndPlatformStreamsButNotOthers() throws Exception {
        String project = Fixtures.project();
        long job = Fixtures.submit(Spec.gpt(project, Fixtures.pool()));
        var revoked = Fixtures.member(project);
        var kept = Fixtures.member(project);

        try (OpenStream jobStream = OpenStream.open(URI.create(jobsUri + "/" + job + "/stream"), revoked.secret());
                OpenStream platformStream = OpenStream.open(platformUri, revoked.secret());
                OpenStream otherStream = OpenStream.open(platformUri, kept.secret())) {
            assertThat(jobStream.firstEvent.await(10, TimeUnit.SECONDS))
                    .as("the job stream delivers before the revocation")
                    .isTrue();
            assertThat(jobStream.isOpen()).isTrue();
            assertThat(platformStream.isOpen()).isTrue();

            asAdmin().delete("/api/v1/tokens/" + revoked.id()).then().statusCode(200);

            assertThat(jobStream.awaitEnd(FEW_SECONDS)).as("job stream ended").isTrue();
            assertThat(platformStream.awaitEnd(FEW_SECONDS))
                    .as("platform stream ended")
                    .isTrue();
            assertThat(otherStream.isOpen())
                    .as("a stream of a token still valid")
                    .isTrue();
        }
    }

    /** An SSE response read to its end on a thread of its own. */
    private static final class OpenStream implements AutoCloseable {
        private final InputStream body;
        final CountDownLatch firstEvent = new CountDownLatch(1);
        private final CountDownLatch ended = new CountDownLatch(1);

        private OpenStream(InputStream body) {
            this.body = body;
            Thread reader = new Thread(this::read, "sse-reader");
            reader.setDaemon(true);
            reader.start();
        }

        static OpenStream open(URI uri, String secret) throws IOException, InterruptedException {
            HttpRequest request = HttpRequest.newBuilder(uri)
                    .header("Authorization", "Bearer " + secret)
                    .header("Accept", "text/event-stream")
                    .build();
            HttpResponse<InputStream> response =
                    HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
            assertThat(response.statusCode()).isEqualTo(200);
            return new OpenStream(response.body());
        }

        boolean isOpen() {
            return ended.getCount() > 0;
        }

        boolean awaitEnd(Duration timeout) throws InterruptedException {
            return ended.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void read() {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    if (line.startsWith("data:")) {
                        firstEvent.countDown();
                    }
                }
            } catch (IOException e) {
                // the connection broke: as ended as a completed response
            } finally {
                ended.countDown();
            }
        }

        @Override
        public void close() throws IOException {
            body.close();
        }
    }
}
