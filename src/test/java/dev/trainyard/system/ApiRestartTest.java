package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The API killed with SIGKILL while a job trains: the runner keeps training, reconnects, and nothing is lost. */
class ApiRestartTest {
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("restart");
        platform.startRunner("node-a", 2);
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void aJobSurvivesAnApiCrashWithEveryMetricReportedExactlyOnce() {
        long steps = 150;
        Job job = platform.jobs().submitJob(Specs.tinyGpt("survivor", 2, steps, 50), null);
        platform.awaitJob(job.getId(), j -> j.getProgress().getStep() >= 10, Duration.ofMinutes(3));

        platform.api().kill9();
        Platform.sleep(2_000);
        platform.startApi();

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(4));
        assertThat(done.getState()).isEqualTo("SUCCEEDED");
        assertThat(done.getRestarts()).as("the runner was not given up on").isZero();
        assertThat(platform.jobs().listJobAttempts(job.getId())).hasSize(1);
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss)
                .extracting(SeriesPoint::getStep)
                .as("every step exactly once")
                .containsExactlyElementsOf(
                        LongStream.rangeClosed(1, steps).boxed().toList());
    }
}
