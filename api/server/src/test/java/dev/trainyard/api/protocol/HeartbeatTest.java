package dev.trainyard.api.protocol;

import static dev.trainyard.api.testing.ApiRequests.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.testing.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An idle runner's long poll: the scheduler gives work only to runners heard within half the heartbeat timeout,
 * so the API holds a heartbeat at most a quarter of it (15 s here), whatever the runner asks for.
 */
@QuarkusTest
class HeartbeatTest {

    @Test
    void aLongPollEndsWithinAQuarterOfTheHeartbeatTimeout() {
        String pool = Fixtures.pool();
        Fixtures.Token token = Fixtures.runner();
        long runner = Fixtures.registerRunner(token, pool, "idle");

        long t0 = System.nanoTime();
        List<Object> assignments = as(token.secret())
                .body(Map.of("runnerId", runner, "waitMs", 20_000))
                .post("/api/v1/runner/heartbeat")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("assignments");

        assertThat(assignments).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(15_000 / 4 + 1_500));
    }
}
