package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CrossRunnerZeroThreeTest}'s cut grid at ZeRO 3 (2 replicas x 2 stages on four one-device runners, each
 * process keeping half of its stage's parameters) survives losing a runner: after kill -9 of replica 1's last stage,
 * the job resumes from the four processes' shards of its last checkpoint, each holding parameter slices only, on
 * the three runners left and one that joins, and finishes with the loss falling.
 */
class CrossRunnerZeroThreeResumeTest {
    static final long STEPS = 60;
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("xzerothreeresume");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void aCutZeroThreeJobResumesFromItsSlicesAfterARunnerDies() {
        Map<String, ManagedProcess> runners = new HashMap<>();
        for (String name : List.of("zr-a", "zr-b", "zr-c", "zr-d")) {
            runners.put(name, platform.startRunner(name, 1));
        }
        platform.awaitActiveRunners(4);
        JobSpec spec = Specs.cutReplicas("cross-runner-zero3-resume", 1, 3, STEPS, 10);
        Job job = platform.jobs().submitJob(spec, null);
        platform.awaitJob(
                job.getId(),
                j -> j.getProgress().getStep() >= 10
                        && !platform.jobs().listJobCheckpoints(j.getId()).isEmpty(),
                Duration.ofMinutes(2));
        // rank 3: replica 1's last stage
        runners.get("zr-d").kill9();
        platform.startRunner("zr-e", 1);

        List<Attempt> attempts = DataParallelJobTest.finishedAfterOneLoss(platform, job.getId());
        String history = DataParallelJobTest.history(attempts);
        assertThat(attempts.get(1).getRunners()).as(history).containsExactlyInAnyOrder("zr-a", "zr-b", "zr-c", "zr-e");
        assertThat(ElasticJobTest.logLines(platform, job.getId()))
                .as("attempt 2 resumed from the four processes' shards")
                .anyMatch(l -> l.contains("attempt 2 starting") && l.contains(".shard-0-of-4.safetensors"));
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss.get(loss.size() - 1).getStep()).isEqualTo(STEPS);
        assertThat(loss.get(loss.size() - 1).getValue()).isLessThan(loss.get(0).getValue());
    }
}
