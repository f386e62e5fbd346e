package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CrossRunnerPipelineReplicasTest}'s grid at ZeRO 3: two data-parallel replicas of a 2-stage pipeline on four
 * runners of one device each, so each replica is cut over two runners, and the two runners holding the same stage
 * keep half of its parameters each, gathering every block from each other as each micro-batch's forward and
 * backward reach it. The job trains to success with a falling loss, every process to the last step, and its last
 * checkpoint is complete (a shard from each of the four processes).
 */
class CrossRunnerZeroThreeTest {
    static final long STEPS = 20;
    static final Pattern HELD = Pattern.compile(
            "\\[rank (\\d)\\] parameters on this process between steps: (\\d+) bytes \\(whole (\\d+)" + " bytes\\)");
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("xzerothree");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void twoReplicasOfTwoStagesTrainAtZeroThreeOnFourOneDeviceRunners() throws Exception {
        List<ManagedProcess> runners = new ArrayList<>();
        for (String name : List.of("xz-a", "xz-b", "xz-c", "xz-d")) {
            runners.add(platform.startRunner(name, 1));
        }
        try {
            platform.awaitActiveRunners(4);
            JobSpec spec = Specs.cutReplicas("cross-runner-zero3", 1, 3, STEPS, 10);
            Job job = platform.jobs().submitJob(spec, null);

            Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

            List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
            String history = DataParallelJobTest.history(attempts);
            assertThat(done.getState()).as(history).isEqualTo("SUCCEEDED");
            assertThat(attempts).as(history).hasSize(1);
            assertThat(attempts.get(0).getRunners()).containsExactlyInAnyOrder("xz-a", "xz-b", "xz-c", "xz-d");
            assertThat(ElasticJobTest.logLines(platform, job.getId()))
                    .as("each process holds one stage of one replica")
                    .anyMatch(l -> l.startsWith("[rank 3] attempt 1 starting on 1 device(s), replicas 1-1 of 2")
                            && l.contains("pipeline stages 1-1 of 2 (pipeline rank 1 of 2)"));
            StringBuilder logs = new StringBuilder();
            for (ManagedProcess runner : runners) {
                logs.append(Files.readString(runner.log()));
            }
            for (int rank = 0; rank < 4; rank++) {
                assertThat(logs).contains("[rank " + rank + "] training complete after " + STEPS + " steps");
            }
            // every process keeps half of its stage's parameters between steps
            Matcher held = HELD.matcher(logs);
            int processes = 0;
            while (held.find()) {
                processes++;
                assertThat(Double.parseDouble(held.group(2)) / Double.parseDouble(held.group(3)))
                        .as(held.group())
                        .isCloseTo(0.5, within(0.01));
            }
            assertThat(processes).as(logs.toString()).isEqualTo(4);
            List<SeriesPoint> loss = platform.points(job.getId(), "loss");
            assertThat(loss).hasSize((int) STEPS);
            assertThat(loss.get(loss.size() - 1).getValue())
                    .as("loss falls")
                    .isLessThan(loss.get(0).getValue());
            assertThat(platform.jobs().listJobCheckpoints(job.getId()))
                    .extracting(Checkpoint::getStep)
                    .contains(STEPS);
        } finally {
            runners.forEach(ManagedProcess::close);
        }
    }
}
