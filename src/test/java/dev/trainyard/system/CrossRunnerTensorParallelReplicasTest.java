package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * All three kinds of parallelism over runners at once: 2 data-parallel replicas of a 2-stage pipeline whose stages
 * are tensor-parallel groups of 2 devices (t2 x p2 x d2, 8 devices) on four 2-device runner processes. No runner
 * holds a replica (4 devices), so every replica is cut one stage per runner, each runner running its stage's 2-way
 * group, and the runners holding the same stage share its ZeRO 1 optimizer state.
 */
class CrossRunnerTensorParallelReplicasTest {
    static final long STEPS = 40;
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("xtpreplicas");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void twoReplicasOfTwoWayStagesAreCutOneStagePerTwoDeviceRunner() {
        for (String name : List.of("tr-a", "tr-b", "tr-c", "tr-d")) {
            platform.startRunner(name, 2);
        }
        platform.awaitActiveRunners(4);
        JobSpec spec = Specs.cutReplicas("cross-runner-tensor-parallel-replicas", 2, 1, STEPS, 20);
        Job job = platform.jobs().submitJob(spec, null);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        String history = DataParallelJobTest.history(attempts);
        assertThat(done.getState()).as(history).isEqualTo("SUCCEEDED");
        assertThat(attempts).as(history).singleElement().satisfies(a -> {
            assertThat(a.getGpus()).isEqualTo(8);
            assertThat(a.getRunners()).containsExactlyInAnyOrder("tr-a", "tr-b", "tr-c", "tr-d");
        });
        List<String> lines = ElasticJobTest.logLines(platform, job.getId());
        for (int q = 0; q < 4; q++) {
            int replica = q / 2;
            int stage = q % 2;
            String starting = "[rank " + q + "] attempt 1 starting on 2 device(s)";
            String stages = "pipeline stages " + stage + "-" + stage + " of 2 (pipeline rank " + stage + " of 2), each"
                    + " stage tensor-parallel over 2 devices";
            assertThat(lines)
                    .as("rank %d holds replica %d's stage %d on its two devices", q, replica, stage)
                    .anyMatch(l -> l.startsWith(starting)
                            && l.contains("replicas " + replica + "-" + replica + " of 2")
                            && l.contains(stages));
        }
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss.get(loss.size() - 1).getStep()).isEqualTo(STEPS);
        assertThat(loss.get(loss.size() - 1).getValue()).isLessThan(loss.get(0).getValue());
    }
}
