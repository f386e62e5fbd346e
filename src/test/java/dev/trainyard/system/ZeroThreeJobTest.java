package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.ParallelismSpec;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A ZeRO 3 job through the platform: two replicas of one device, one per runner (neither has room for both), each
 * runner's process keeping half of the parameters, gradients and AdamW state and gathering the blocks from the
 * other as they run, the next block's gather in flight while one computes. It trains to success with a falling
 * loss, both ranks to the last step, and writes its last checkpoint (a shard from each runner).
 */
class ZeroThreeJobTest {
    static final long STEPS = 20;
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("zerothree");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void twoRunnersTrainAZeroThreeJobEachHoldingHalfOfTheParameters() throws Exception {
        List<ManagedProcess> runners = List.of(platform.startRunner("z3-a", 1), platform.startRunner("z3-b", 1));
        try {
            JobSpec spec = Specs.tinyGpt("zero3", 2, STEPS, 10);
            spec.getResources().multiNode(true);
            spec.parallelism(new ParallelismSpec()
                    .dataParallel(2)
                    .zero(3)
                    .microBatches(2)
                    .schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")));
            Job job = platform.jobs().submitJob(spec, null);

            Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

            assertThat(done.getState()).as(done.getStateReason()).isEqualTo("SUCCEEDED");
            List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
            assertThat(attempts).hasSize(1);
            assertThat(attempts.get(0).getRunners()).containsExactlyInAnyOrder("z3-a", "z3-b");
            List<SeriesPoint> loss = platform.points(job.getId(), "loss");
            assertThat(loss).hasSize((int) STEPS);
            assertThat(loss.get(loss.size() - 1).getValue())
                    .as("loss falls")
                    .isLessThan(loss.get(0).getValue());
            String logs = Files.readString(runners.get(0).log())
                    + Files.readString(runners.get(1).log());
            assertThat(logs).contains("[rank 1] training ended at step " + STEPS + " (COMPLETED)");
            // each process keeps half of the parameters between steps
            Matcher held = Pattern.compile(
                            "\\[rank 1\\] parameters on this process between steps: (\\d+) bytes \\(whole (\\d+) bytes\\)")
                    .matcher(logs);
            assertThat(held.find()).as(logs).isTrue();
            assertThat(Double.parseDouble(held.group(1)) / Double.parseDouble(held.group(2)))
                    .isCloseTo(0.5, within(0.01));
            // while a block runs, the next block's all-gather is in flight between the runners: more than one
            // block whole at once, never more than two (a prefetch buffer is padded by at most one float)
            Matcher whole = Pattern.compile("\\[rank 1\\] whole parameters held at once during a step: (\\d+) bytes"
                            + " per stage at most \\(largest block (\\d+) bytes")
                    .matcher(logs);
            assertThat(whole.find()).as(logs).isTrue();
            long largestBlock = Long.parseLong(whole.group(2));
            assertThat(Long.parseLong(whole.group(1)))
                    .isGreaterThan(largestBlock)
                    .isLessThanOrEqualTo(2 * largestBlock + Float.BYTES);
            assertThat(platform.jobs().listJobCheckpoints(job.getId()))
                    .extracting(Checkpoint::getStep)
                    .contains(STEPS);
        } finally {
            runners.forEach(ManagedProcess::close);
        }
    }
}
