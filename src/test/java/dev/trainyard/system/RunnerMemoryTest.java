package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.client.ApiException;
import dev.trainyard.client.api.RunnersApi;
import dev.trainyard.client.model.Device;
import dev.trainyard.client.model.GptModel;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.ModelSpec;
import dev.trainyard.client.model.Runner;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A runner told how much memory its CPU devices offer ({@code --cpu-memory}) reports it, and the API refuses at
 * submission a job whose memory plan needs more, while a job that fits is accepted.
 */
class RunnerMemoryTest {
    static final long OFFERED = 96L << 20;
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("memory");
        platform.startRunner("small", 1, platform.baseUrl(), List.of("--cpu-memory", "96m"));
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void theApiRefusesAJobThatNeedsMoreThanTheRunnersConfiguredMemoryAndAcceptsOneThatFits() {
        Runner small = awaitActive("small");
        assertThat(small.getDevices()).extracting(Device::getMemoryBytes).containsExactly(OFFERED);

        // about 12.6M parameters: some 200 MB of weights, gradients and AdamW state, far below this host's memory
        JobSpec large = Specs.tinyGpt("too-large", 1, 10, 5);
        large.model(new ModelSpec(((GptModel) large.getModel().getActualInstance())
                .layers(4)
                .dModel(512)
                .heads(8)));
        assertThatThrownBy(() -> platform.jobs().submitJob(large, null))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(400);
                    assertThat(e.getResponseBody()).contains("model").contains("96.0 MiB");
                });

        Job fits = platform.jobs().submitJob(Specs.tinyGpt("fits", 1, 10, 5), null);
        assertThat(fits.getState()).isIn("QUEUED", "SCHEDULED", "RUNNING", "SUCCEEDED");
    }

    private static Runner awaitActive(String name) {
        RunnersApi runners = new RunnersApi(platform.client(Platform.ADMIN_TOKEN));
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Runner> runner = runners.listRunners(Platform.POOL).stream()
                    .filter(r -> name.equals(r.getName()) && "ACTIVE".equals(r.getState()))
                    .findFirst();
            if (runner.isPresent()) {
                return runner.get();
            }
            Platform.sleep(500);
        }
        throw new AssertionError("runner " + name + " did not register within 90 s");
    }
}
