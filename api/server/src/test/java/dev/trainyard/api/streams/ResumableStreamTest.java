package dev.trainyard.api.streams;

import static dev.trainyard.api.testing.ApiRequests.ADMIN;
import static dev.trainyard.api.testing.ApiRequests.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Streams resume where the client was cut off: reconnecting with the last event id gives every event, metric
 * point and log line that followed, once, and the platform stream the jobs that changed while the client was
 * away; a malformed or foreign id is a 400, never a 500 nor a silent restart.
 */
@QuarkusTest
class ResumableStreamTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TestHTTPResource("/api/v1")
    URI api;

    String project;
    String pool;
    Fixtures.Token runner;

    @BeforeEach
    void aProjectAndARunner() {
        project = Fixtures.project();
        pool = Fixtures.pool();
        runner = Fixtures.runner();
    }

    @Test
    void aJobStreamResumedAfterTheLastProcessedEventLosesAndRepeatsNothing() throws Exception {
        Running job = running();
        Received received = new Received();
        String lastId;
        try (SseClient first = SseClient.open(jobStream(job.id), ADMIN, null)) {
            job.reportMetrics(0, 20, "train/loss", "train/lr");
            job.reportLogs("first", 10);
            // the client stops at the first metrics: what the server sent after it was never processed
            lastId = first.takeUntil(e -> e.name().equals("metrics"), received::add, WAIT)
                    .id();
        }
        // while the client is away: more points (one metric new, at steps already streamed), lines, the end
        job.reportMetrics(20, 40, "train/loss", "train/lr");
        job.reportMetrics(0, 40, "eval/loss");
        job.reportLogs("second", 10);
        job.end("SUCCEEDED");

        try (SseClient second = SseClient.open(jobStream(job.id), ADMIN, lastId)) {
            second.takeUntil(e -> received.hasAllOf(job.id), received::add, WAIT);
            received.drain(second, Duration.ofSeconds(2));
        }

        assertThat(received.duplicates)
                .as("events, points and lines received twice")
                .isEmpty();
        assertThat(received.eventIds).as("events").containsExactlyInAnyOrderElementsOf(eventIds(job.id));
        assertThat(received.points).as("metric points").containsExactlyInAnyOrderElementsOf(points(job.id));
        assertThat(received.logIds).as("log lines").containsExactlyInAnyOrderElementsOf(logIds(job.id));
        assertThat(received.lastState).isEqualTo("SUCCEEDED");
    }

    @Test
    void thePlatformStreamResumedDeliversASucceededThatHappenedWhileAwayAndOnlyToWhoMaySeeIt() throws Exception {
        String lastId;
        long id;
        try (SseClient stream = SseClient.open(api("/stream/jobs"), ADMIN, null)) {
            id = Fixtures.submit(Spec.gpt(project, pool).set("training.steps", 200));
            lastId = stream.takeUntil(e -> isJob(e, id), e -> {}, WAIT).id();
        }
        Running job = running(id);
        job.end("SUCCEEDED");
        String other = Fixtures.project();
        Fixtures.Token outsider = Fixtures.member(other);

        try (SseClient resumed = SseClient.open(api("/stream/jobs?lastEventId=" + encode(lastId)), ADMIN, null)) {
            SseClient.Event e = resumed.takeUntil(x -> isJob(x, job.id), x -> {}, WAIT);
            assertThat(e.data().get("state").asText()).isEqualTo("SUCCEEDED");
        }
        try (SseClient resumed = SseClient.open(api("/stream/jobs"), outsider.secret(), lastId)) {
            long own = Fixtures.submit(Spec.gpt(other, pool));
            List<Long> announced = new ArrayList<>();
            resumed.takeUntil(x -> isJob(x, own), x -> announce(x, announced), WAIT);
            assertThat(announced).as("jobs a member of another project hears").doesNotContain(job.id);
        }
    }

    @Test
    void thePlatformStreamResumedDeliversEveryTransitionMissedOnceAndInOrder() throws Exception {
        List<Long> heard = new ArrayList<>();
        Set<Long> jobs = new HashSet<>();
        String lastId;
        long id;
        try (SseClient stream = SseClient.open(api("/stream/jobs"), ADMIN, null)) {
            id = Fixtures.submit(Spec.gpt(project, pool).set("training.steps", 200));
            jobs.add(id);
            lastId = stream.takeUntil(e -> isJob(e, id), e -> transition(e, jobs, heard), WAIT)
                    .id();
        }
        // while away: another job is submitted and cancelled, and the first one finishes
        long other = Fixtures.submit(Spec.gpt(project, pool));
        jobs.add(other);
        as(ADMIN).post("/api/v1/jobs/" + other + ":cancel").then().statusCode(200);
        Running job = running(id);
        job.end("SUCCEEDED");

        try (SseClient resumed = SseClient.open(api("/stream/jobs"), ADMIN, lastId)) {
            resumed.takeUntil(
                    x -> isJob(x, id) && x.data().get("state").asText().equals("SUCCEEDED"),
                    x -> transition(x, jobs, heard),
                    WAIT);
        }
        List<Long> stored = new ArrayList<>();
        try (Connection c = Db.connection();
                PreparedStatement q =
                        c.prepareStatement("select id from job_events where job_id in (?, ?) order by id")) {
            q.setLong(1, id);
            q.setLong(2, other);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    stored.add(rs.getLong(1));
                }
            }
        }
        assertThat(stored).as("the two jobs' transitions").hasSizeGreaterThanOrEqualTo(4);
        assertThat(heard).as("transitions heard over both connections").isEqualTo(stored);
    }

    private static void transition(SseClient.Event e, Set<Long> jobs, List<Long> heard) {
        if (e.name().equals("transition") && jobs.contains(e.data().get("jobId").asLong())) {
            heard.add(e.data().get("id").asLong());
        }
    }

    @Test
    void aMalformedOrForeignIdIsA400AndAnIdFromTheFutureMakesThePlatformStreamReload() throws Exception {
        long job = Fixtures.submit(Spec.gpt(project, pool));
        long other = Fixtures.submit(Spec.gpt(project, pool));
        String platformId = "P1." + "A".repeat(43);
        for (String bad : List.of(
                "garbage",
                "J" + job + "-0-0-0-no spaces:1",
                "J" + other + "-0-0-0-",
                "J" + job + "-0-999999999999-0-",
                "J" + job + "-999999-0-0-",
                platformId)) {
            SseClient.Answer answer = SseClient.refused(jobStream(job), ADMIN, bad);
            assertThat(answer.status()).as(bad).isEqualTo(400);
            assertThat(answer.contentType()).as(bad).startsWith("application/problem+json");
        }
        assertThat(SseClient.refused(api("/stream/jobs"), ADMIN, "J" + job + "-0-0-0-")
                        .status())
                .isEqualTo(400);
        Fixtures.Token outsider = Fixtures.member(Fixtures.project());
        assertThat(SseClient.refused(jobStream(job), outsider.secret(), "J" + job + "-0-0-0-")
                        .status())
                .as("another project's job, resumed")
                .isEqualTo(404);

        try (SseClient future = SseClient.open(api("/stream/jobs"), ADMIN, "P999999999999." + "A".repeat(43))) {
            SseClient.Event first = future.next(WAIT);
            assertThat(first.name()).isEqualTo("reload");
            assertThat(first.id()).startsWith("P");
        }
    }

    private static boolean isJob(SseClient.Event e, long id) {
        return e.name().equals("job") && e.data().get("id").asLong() == id;
    }

    private static void announce(SseClient.Event e, List<Long> announced) {
        if (e.name().equals("job")) {
            announced.add(e.data().get("id").asLong());
        }
    }

    private Running running() {
        return running(Fixtures.submit(Spec.gpt(project, pool).set("training.steps", 200)));
    }

    private Running running(long id) {
        long attempt = Db.makeRunning(id, Db.insertRunner(pool, 1, "ACTIVE", runner.id()));
        return new Running(id, attempt, Db.queryString("select lease_token::text from attempts where id = ?", attempt));
    }

    /** A job in a running attempt, reporting through the runner protocol as a runner would. */
    private final class Running {
        final long id;
        final long attempt;
        final String lease;

        Running(long id, long attempt, String lease) {
            this.id = id;
            this.attempt = attempt;
            this.lease = lease;
        }

        void reportMetrics(long from, long to, String... names) {
            List<Map<String, Object>> points = new ArrayList<>();
            for (long s = from; s < to; s++) {
                for (String name : names) {
                    points.add(Map.of("step", s, "name", name, "value", s * 0.5));
                }
            }
            as(runner.secret())
                    .body(Map.of("leaseToken", lease, "points", points))
                    .post("/api/v1/runner/attempts/" + attempt + "/metrics")
                    .then()
                    .statusCode(200);
        }

        void reportLogs(String prefix, int count) {
            List<Map<String, Object>> lines = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                lines.add(Map.of("at", Instant.now().toString(), "line", prefix + " " + i));
            }
            as(runner.secret())
                    .body(Map.of("leaseToken", lease, "lines", lines))
                    .post("/api/v1/runner/attempts/" + attempt + "/logs")
                    .then()
                    .statusCode(200);
        }

        void end(String outcome) throws Exception {
            if (outcome.equals("SUCCEEDED")) {
                // an attempt succeeds only once its final export is stored
                for (String name : List.of("model.safetensors", "config.json")) {
                    byte[] body = ("export " + name).getBytes(StandardCharsets.UTF_8);
                    as(runner.secret())
                            .contentType("application/octet-stream")
                            .header("X-Lease-Token", lease)
                            .header(
                                    "X-Checksum-Sha256",
                                    java.util.HexFormat.of()
                                            .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                                                    .digest(body)))
                            .body(body)
                            .put("/api/v1/runner/attempts/" + attempt + "/export/" + name)
                            .then()
                            .statusCode(200);
                }
            }
            as(runner.secret())
                    .body(Map.of("leaseToken", lease, "outcome", outcome, "finalStep", 39))
                    .post("/api/v1/runner/attempts/" + attempt + ":end")
                    .then()
                    .statusCode(200);
        }
    }

    /** Everything a client processed, over all its connections, with what it got more than once. */
    private static final class Received {
        final Set<Long> eventIds = new HashSet<>();
        final Set<String> points = new HashSet<>();
        final Set<Long> logIds = new HashSet<>();
        final List<String> duplicates = new ArrayList<>();
        String lastState;

        void add(SseClient.Event e) {
            switch (e.name()) {
                case "job" -> lastState = e.data().get("state").asText();
                case "event" -> once(eventIds, e.data().get("id").asLong(), "event");
                case "log" -> e.data().forEach(l -> once(logIds, l.get("id").asLong(), "log"));
                case "metrics" -> {
                    for (Iterator<String> names = e.data().fieldNames(); names.hasNext(); ) {
                        String name = names.next();
                        e.data()
                                .get(name)
                                .forEach(p ->
                                        once(points, name + "@" + p.get("step").asLong(), "point"));
                    }
                }
                default -> {}
            }
        }

        private <T> void once(Set<T> set, T value, String what) {
            if (!set.add(value)) {
                duplicates.add(what + " " + value);
            }
        }

        boolean hasAllOf(long job) {
            return "SUCCEEDED".equals(lastState)
                    && eventIds.containsAll(eventIds(job))
                    && points.containsAll(points(job))
                    && logIds.containsAll(logIds(job));
        }

        /** Takes whatever else comes within {@code quiet}: a duplicate would show up here. */
        void drain(SseClient stream, Duration quiet) throws InterruptedException {
            long deadline = System.nanoTime() + quiet.toNanos();
            while (System.nanoTime() < deadline) {
                SseClient.Event e = stream.poll(Duration.ofMillis(200));
                if (e != null) {
                    add(e);
                }
            }
        }
    }

    private URI jobStream(long job) {
        return api("/jobs/" + job + "/stream");
    }

    private URI api(String path) {
        return URI.create(api + path);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Set<Long> eventIds(long job) {
        return longs("select id from job_events where job_id = ?", job);
    }

    private static Set<Long> logIds(long job) {
        return longs("select id from job_logs where job_id = ?", job);
    }

    private static Set<String> points(long job) {
        Set<String> out = new HashSet<>();
        try (Connection c = Db.connection();
                PreparedStatement ps = c.prepareStatement("select name, step from metric_points where job_id = ?")) {
            ps.setLong(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1) + "@" + rs.getLong(2));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static Set<Long> longs(String sql, long job) {
        Set<Long> out = new HashSet<>();
        try (Connection c = Db.connection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }
}
