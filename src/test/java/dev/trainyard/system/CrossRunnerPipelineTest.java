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
 * A 2-stage pipeline whose replica fits no single runner (each has one device) waits while the pool has one such
 * runner, saying why, then trains with its stages on two runner processes; when one of them is killed, the job
 * resumes from its last checkpoint (a shard from each rank) on a runner that holds both stages, and finishes. That runner starts only after
 * the kill: had it been there before, the job would have gone to it whole.
 */
class CrossRunnerPipelineTest {
    static final long STEPS = 150;
    static Platform platform;
    static final Map<String, ManagedProcess> runners = new HashMap<>();

    @BeforeAll
    static void start() {
        platform = Platform.start("xrunner");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    /** Two single-device stages that may be cut between runners. */
    static JobSpec twoStages(String name) {
        JobSpec spec = Specs.tinyGpt(name, 2, STEPS, 10);
        spec.getResources().multiNode(true);
        return spec.parallelism(new ParallelismSpec()
                .stages(2)
                .microBatches(4)
                .schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")));
    }

    @Test
    void stagesTrainOnTwoRunnersAndResumeOnOneThatHoldsBothAfterOneDies() {
        startRunner("pp-a", 1);
        platform.awaitActiveRunners(1);
        Job job = platform.jobs().submitJob(twoStages("cross-runner"), null);
        Job waiting = platform.awaitJob(
                job.getId(),
                j -> j.getPending() != null
                        && "NO_POOL_FITS".equals(j.getPending().getReason()),
                Duration.ofSeconds(30));
        assertThat(waiting.getPending().getMessage())
                .isEqualTo("its 2 pipeline stages need 2 GPUs, one each; pool cpu has 1 on schedulable runners");

        startRunner("pp-b", 1);
        platform.awaitJob(
                job.getId(),
                j -> j.getProgress().getStep() >= 20
                        && !platform.jobs().listJobCheckpoints(j.getId()).isEmpty(),
                Duration.ofMinutes(2));
        runners.get("pp-b").kill9();
        startRunner("pp-big", 2);

        Attempt first = platform.jobs().listJobAttempts(job.getId()).get(0);
        assertThat(first.getRunners()).containsExactlyInAnyOrder("pp-a", "pp-b");
        assertThat(first.getGpus()).isEqualTo(2);
        assertThat(ElasticJobTest.logLines(platform, job.getId()))
                .anyMatch(l -> l.startsWith("[rank 0] attempt 1 starting on 1 device(s), pipeline stages 0-0 of 2"
                        + " (pipeline rank 0 of 2)"))
                .anyMatch(l -> l.startsWith("[rank 1] attempt 1 starting on 1 device(s), pipeline stages 1-1 of 2"
                        + " (pipeline rank 1 of 2)"));

        List<Attempt> attempts = DataParallelJobTest.finishedAfterOneLoss(platform, job.getId());
        String history = DataParallelJobTest.history(attempts);
        Attempt second = attempts.get(1);
        assertThat(second.getRunners()).as(history).containsExactly("pp-big");
        assertThat(ElasticJobTest.logLines(platform, job.getId()))
                .as("each pipeline rank wrote and uploaded its stage's shard; the runner left resumed from both")
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
