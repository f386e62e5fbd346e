package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.ParallelismSpec;
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
 * A pipeline of 2 stages, each a tensor-parallel group of 2 devices (t2 x p2, 4 devices), waits while the pool has a
 * single 2-device runner, saying why in the groups' terms; then the scheduler cuts it one stage per runner over two
 * 2-device runner processes, each running its stage's 2-way group, and it trains; when one of them is killed, the
 * job resumes from its last checkpoint (a shard from each pipeline rank) on a 4-device runner that joins, and
 * finishes with the loss falling.
 */
class CrossRunnerTensorParallelPipelineTest {
    static final long STEPS = 60;
    static Platform platform;
    static final Map<String, ManagedProcess> runners = new HashMap<>();

    @BeforeAll
    static void start() {
        platform = Platform.start("xtensor");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void twoWayStagesAreCutOneStagePerRunnerAndResumeOnAFourDeviceRunnerAfterOneDies() {
        startRunner("tp-a", 2);
        platform.awaitActiveRunners(1);
        JobSpec spec = Specs.tinyGpt("cross-runner-tensor-parallel", 4, STEPS, 10);
        spec.getResources().multiNode(true);
        spec.parallelism(new ParallelismSpec()
                .tensorParallel(2)
                .stages(2)
                .microBatches(4)
                .schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")));
        Job job = platform.jobs().submitJob(spec, null);
        Job waiting = platform.awaitJob(
                job.getId(),
                j -> j.getPending() != null
                        && "NO_POOL_FITS".equals(j.getPending().getReason()),
                Duration.ofSeconds(30));
        assertThat(waiting.getPending().getMessage())
                .isEqualTo("its 2 pipeline stages need 4 GPUs, a tensor-parallel group of 2 GPUs each, each group on"
                        + " one runner; pool cpu has 2 on schedulable runners");

        startRunner("tp-b", 2);
        platform.awaitJob(
                job.getId(),
                j -> j.getProgress().getStep() >= 20
                        && !platform.jobs().listJobCheckpoints(j.getId()).isEmpty(),
                Duration.ofMinutes(2));
        runners.get("tp-b").kill9();
        startRunner("tp-big", 4);

        Attempt first = platform.jobs().listJobAttempts(job.getId()).get(0);
        assertThat(first.getRunners()).containsExactlyInAnyOrder("tp-a", "tp-b");
        assertThat(first.getGpus()).isEqualTo(4);
        assertThat(ElasticJobTest.logLines(platform, job.getId()))
                .as("each runner holds one stage on its two devices")
                .anyMatch(l -> l.startsWith("[rank 0] attempt 1 starting on 2 device(s), pipeline stages 0-0 of 2"
                        + " (pipeline rank 0 of 2), each stage tensor-parallel over 2 devices"))
                .anyMatch(l -> l.startsWith("[rank 1] attempt 1 starting on 2 device(s), pipeline stages 1-1 of 2"
                        + " (pipeline rank 1 of 2), each stage tensor-parallel over 2 devices"));

        List<Attempt> attempts = DataParallelJobTest.finishedAfterOneLoss(platform, job.getId());
        String history = DataParallelJobTest.history(attempts);
        Attempt second = attempts.get(1);
        assertThat(second.getRunners()).as(history).containsExactly("tp-big");
        assertThat(second.getGpus()).isEqualTo(4);
        assertThat(ElasticJobTest.logLines(platform, job.getId()))
                .as("each pipeline rank wrote and uploaded its stage's shard; the 4-device runner resumed from both")
                .anyMatch(line -> line.contains("attempt 2 starting") && line.contains(".shard-0-of-2.safetensors"));
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss.get(0).getStep())
                .as("rank 0 reports from the first step")
                .isEqualTo(1);
        assertThat(loss.get(loss.size() - 1).getStep()).isEqualTo(STEPS);
        assertThat(loss.get(loss.size() - 1).getValue()).isLessThan(loss.get(0).getValue());
    }

    private static void startRunner(String name, int devices) {
        runners.put(name, platform.startRunner(name, devices));
    }
}
