package dev.trainyard.api.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A test's SSE client over a real connection: events are parsed on a thread of their own and queued; the test
 * takes them one at a time, so what it did not take yet is what a client cut off now would not have processed.
 */
final class SseClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One event: its name, its id and its parsed data. */
    record Event(String name, String id, JsonNode data) {}

    private final InputStream body;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

    private SseClient(InputStream body) {
        this.body = body;
        Thread reader = new Thread(this::read, "sse-client");
        reader.setDaemon(true);
        reader.start();
    }

    /** Opens {@code uri} with {@code bearer}; {@code lastEventId} (may be null) goes as the header. */
    static SseClient open(URI uri, String bearer, String lastEventId) throws IOException, InterruptedException {
        HttpResponse<InputStream> response = send(uri, bearer, lastEventId);
        assertThat(response.statusCode()).as("status of " + uri).isEqualTo(200);
        return new SseClient(response.body());
    }

    /** Status and content type of an answer meant to be a refusal; a stream that opens instead is closed. */
    record Answer(int status, String contentType) {}

    /** Opens {@code uri} as {@link #open} does, but only to see the answer's status and type. */
    static Answer refused(URI uri, String bearer, String lastEventId) throws IOException, InterruptedException {
        HttpResponse<InputStream> response = send(uri, bearer, lastEventId);
        response.body().close();
        return new Answer(
                response.statusCode(),
                response.headers().firstValue("Content-Type").orElse(""));
    }

    private static HttpResponse<InputStream> send(URI uri, String bearer, String lastEventId)
            throws IOException, InterruptedException {
        return HttpClient.newHttpClient()
                .send(request(uri, bearer, lastEventId).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    private static HttpRequest.Builder request(URI uri, String bearer, String lastEventId) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .header("Authorization", "Bearer " + bearer)
                .header("Accept", "text/event-stream");
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        return b;
    }

    /** The next event, waiting up to {@code timeout}; fails the test when none comes. */
    Event next(Duration timeout) throws InterruptedException {
        Event e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(e).as("an event within " + timeout).isNotNull();
        return e;
    }

    /** The next event if one comes within {@code timeout}, else null. */
    Event poll(Duration timeout) throws InterruptedException {
        return events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Takes events, handing each to {@code sink}, until one matches {@code until} (that one included). */
    Event takeUntil(Predicate<Event> until, java.util.function.Consumer<Event> sink, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (; ; ) {
            Event e = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            sink.accept(e);
            if (until.test(e)) {
                return e;
            }
        }
    }

    private void read() {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String name = "message";
            String id = null;
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        events.add(new Event(name, id, JSON.readTree(data.toString())));
                    }
                    name = "message";
                    id = null;
                    data.setLength(0);
                } else if (line.startsWith("event:")) {
                    name = line.substring(6).trim();
                } else if (line.startsWith("id:")) {
                    id = line.substring(3).trim();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5));
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
