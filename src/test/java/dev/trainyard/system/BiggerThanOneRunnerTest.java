package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.client.ApiException;
import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.GptModel;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobEvent;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.ModelSpec;
import dev.trainyard.client.model.ParallelismSpec;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A model whose memory plan does not fit one runner trains across three: each runner reports 2600 KiB of device
 * memory, the model (about 117k parameters) needs 2.8 MiB on one process at ZeRO 0 (16 bytes per parameter plus
 * activations), about 2.2 MiB per process with three data-parallel processes at ZeRO 2 (4 + 4 + 8/3 bytes per
 * parameter: the plan counts gradients whole, as backward holds them; plus the optimizer step's gradient slice,
 * packed bucket and Gloo's copy of it, about 9 bytes per parameter here, where the model is one bucket) and about
 * 2.5 MiB on two processes holding two replicas between them (4 + 4 + 4 bytes per parameter plus about 10 for the
 * optimizer step, which outweighs two replicas' activations). When one of the three runners dies, the job resumes
 * on the two left.
 */
class BiggerThanOneRunnerTest {
    static final String OFFERED = "2600k";
    static final long STEPS = 150;
    static Platform platform;
    static final List<ManagedProcess> runners = new ArrayList<>();

    @BeforeAll
    static void start() {
        platform = Platform.start("bigger");
        for (String name : List.of("big-a", "big-b", "big-c")) {
            runners.add(platform.startRunner(name, 1, platform.baseUrl(), List.of("--cpu-memory", OFFERED)));
        }
        platform.awaitActiveRunners(3);
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    /** The model on {@code gpus} devices: 2 layers of width 64, micro-batches of 6 rows. */
    static JobSpec model(String name, int gpus) {
        JobSpec spec = Specs.tinyGpt(name, gpus, STEPS, 5);
        spec.getTraining().batchSize(12);
        spec.getParallelism().microBatches(2);
        return spec.model(new ModelSpec(((GptModel) spec.getModel().getActualInstance()).dModel(64)));
    }

    /** Three replicas of one device at ZeRO 2, at least {@code minGpus} of them. */
    static JobSpec threeReplicas(String name, int minGpus) {
        JobSpec spec = model(name, 3);
        spec.getResources().minGpus(minGpus).multiNode(true);
        return spec.parallelism(new ParallelismSpec()
                .dataParallel(3)
                .zero(2)
                .microBatches(2)
                .schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")));
    }

    @Test
    void aJobTooBigForOneRunnerTrainsOnThreeAndResumesOnTheTwoLeftAfterOneDies() {
        assertRefused(model("one-runner", 1), "model");
        // at a minimum of one replica, one process could hold all three replicas: as big as the one-runner job (the
        // answer proposes a layout that fits: two replicas on two runners)
        assertRefused(threeReplicas("min-one", 1), "parallelism");

        Job job = platform.jobs().submitJob(threeReplicas("three-runners", 2), null);
        platform.awaitJob(
                job.getId(),
                j -> j.getProgress().getStep() >= 10
                        && !platform.jobs().listJobCheckpoints(j.getId()).isEmpty(),
                Duration.ofMinutes(2));
        Attempt first = platform.jobs().listJobAttempts(job.getId()).get(0);
        assertThat(first.getRunners()).containsExactlyInAnyOrder("big-a", "big-b", "big-c");
        String killed = first.getRunners().get(2);
        runners.get(List.of("big-a", "big-b", "big-c").indexOf(killed)).kill9();

        List<Attempt> attempts = DataParallelJobTest.finishedAfterOneLoss(platform, job.getId());
        String history = DataParallelJobTest.history(attempts);
        Attempt second = attempts.get(1);
        assertThat(second.getGpus()).isEqualTo(2);
        assertThat(second.getRunners()).hasSize(2).doesNotContain(killed);
        assertThat(platform.jobs().listJobEvents(job.getId()))
                .filteredOn(e -> "RESIZED".equals(e.getReason()))
                .extracting(JobEvent::getMessage)
                .containsExactly("Resized from 3 to 2 devices");

        Map<Integer, List<int[]>> ranks = ElasticJobTest.replicasByAttempt(platform, job.getId(), 12);
        assertThat(ranks.get(1))
                .as("three processes, one replica and 4 rows each")
                .hasSize(3)
                .allSatisfy(r -> {
                    assertThat(r[1] - r[0]).isZero();
                    assertThat(r[2]).isEqualTo(4);
                });
        assertThat(ranks.get(2)).as("two processes holding the three replicas").hasSize(2);
        assertThat(ranks.get(2).stream().mapToInt(r -> r[1] - r[0] + 1).sum()).isEqualTo(3);
        assertThat(ranks.get(2).stream().mapToInt(r -> r[2]).sum())
                .as("the same global batch")
                .isEqualTo(12);
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss.get(loss.size() - 1).getStep()).isEqualTo(STEPS);
        assertThat(loss.get(loss.size() - 1).getValue()).isLessThan(loss.get(0).getValue());
    }

    private static void assertRefused(JobSpec spec, String field) {
        assertThatThrownBy(() -> platform.jobs().submitJob(spec, null))
                .as(spec.getName())
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(400);
                    assertThat(e.getResponseBody())
                            .contains("\"field\":\"" + field + "\"")
                            .contains("the plan needs 2.8 MiB")
                            .contains("its fullest device needs 2.8 MiB")
                            .contains("the host memory its cpu devices share is 2.5 MiB");
                });
    }
}
