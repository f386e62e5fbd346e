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
 * Two data-parallel replicas of a 2-stage pipeline, on four runners of one device each: no runner holds a replica,
 * so each replica is cut over two runners of its own, and the four processes (q = replica x 2 + pipeline rank) train
 * it. When one of them is killed, the job resumes from its last checkpoint (a shard from each of the four processes)
 * once a two-device runner joins: the three runners left and that one take a stage each, and the job finishes with
 * the loss falling.
 */
class CrossRunnerPipelineReplicasTest {
    static final long STEPS = 60;
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("xreplicas");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void twoReplicasOfTwoStagesTrainOnFourOneDeviceRunnersAndResumeAfterOneDies() {
        Map<String, ManagedProcess> runners = new HashMap<>();
        for (String name : List.of("pd-a", "pd-b", "pd-c", "pd-d")) {
            runners.put(name, platform.startRunner(name, 1));
        }
        platform.awaitActiveRunners(4);
        JobSpec spec = Specs.cutReplicas("cross-runner-replicas", 1, 0, STEPS, 20);
        Job job = platform.jobs().submitJob(spec, null);
        platform.awaitJob(
                job.getId(),
                j -> j.getProgress().getStep() >= 20
                        && !platform.jobs().listJobCheckpoints(j.getId()).isEmpty(),
                Duration.ofMinutes(2));
        // rank 3: replica 1's last stage
        runners.get("pd-d").kill9();
        platform.startRunner("pd-big", 2);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        String history = DataParallelJobTest.history(attempts);
        assertThat(done.getState()).as(history).isEqualTo("SUCCEEDED");
        assertThat(attempts).as(history).hasSize(2);
        assertThat(attempts.get(0).getRunners()).containsExactlyInAnyOrder("pd-a", "pd-b", "pd-c", "pd-d");
        assertThat(attempts.get(0).getEndReason()).as(history).startsWith("LOST");
        Attempt second = attempts.get(1);
        assertThat(second.getRunners()).as(history).containsExactlyInAnyOrder("pd-a", "pd-b", "pd-c", "pd-big");
        assertThat(second.getResumedFromCheckpoint()).isNotNull();
        assertThat(ElasticJobTest.logLines(platform, job.getId()))
                .as("every process wrote and uploaded its own shard; attempt 2 resumed from the four")
                .anyMatch(line -> line.contains("attempt 2 starting") && line.contains(".shard-0-of-4.safetensors"));
        assertThat(ElasticJobTest.logLines(platform, job.getId()))
                .as("each process holds one stage of one replica")
                .anyMatch(l -> l.startsWith("[rank 0] attempt 1 starting on 1 device(s), replicas 0-0 of 2")
                        && l.contains("pipeline stages 0-0 of 2 (pipeline rank 0 of 2)"))
                .anyMatch(l -> l.startsWith("[rank 3] attempt 1 starting on 1 device(s), replicas 1-1 of 2")
                        && l.contains("pipeline stages 1-1 of 2 (pipeline rank 1 of 2)"));
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss.get(loss.size() - 1).getStep()).isEqualTo(STEPS);
        assertThat(loss.get(loss.size() - 1).getValue()).isLessThan(loss.get(0).getValue());
    }
}
