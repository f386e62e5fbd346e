package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.Job;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.SafetensorsFile;
import dev.trainyard.system.support.Specs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A runner killed with SIGKILL mid-training: the rescuer notices the silence, the job goes back to the queue and
 * another runner resumes it from the last complete checkpoint. On CPU with fixed thread counts the resumed run
 * ends with exactly the parameters and optimizer state of a run that was never interrupted.
 */
class RunnerFailureTest {
    static final long STEPS = 80;
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("failover");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void aKilledRunnersJobResumesElsewhereAndEndsBitwiseEqualToAnUninterruptedRun() throws Exception {
        ManagedProcess first = platform.startRunner("node-a", 2);
        Path commandLine = Path.of("/proc", Long.toString(first.pid()), "cmdline");
        if (Files.exists(commandLine)) {
            assertThat(Files.readString(commandLine).replace('\0', ' '))
                    .as("what every user of the machine sees of the runner")
                    .contains("--token-file")
                    .doesNotContain(platform.runnerToken("node-a"));
        }
        Job reference = platform.jobs().submitJob(Specs.tinyGpt("reference", 2, STEPS, 20), null);
        assertThat(platform.awaitJob(reference.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3))
                        .getState())
                .isEqualTo("SUCCEEDED");

        Job job = platform.jobs().submitJob(Specs.tinyGpt("interrupted", 2, STEPS, 20), null);
        platform.awaitJob(
                job.getId(),
                j -> !platform.jobs().listJobCheckpoints(j.getId()).isEmpty()
                        && j.getProgress().getStep() >= 25,
                Duration.ofMinutes(3));
        first.kill9();
        platform.startRunner("node-b", 2);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));
        assertThat(done.getState()).isEqualTo("SUCCEEDED");
        assertThat(done.getRestarts()).isEqualTo(1);
        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0).getEndReason()).startsWith("LOST");
        assertThat(attempts.get(1).getRunner()).isEqualTo("node-b");
        assertThat(attempts.get(1).getResumedFromCheckpoint())
                .as("resumed from a checkpoint")
                .isNotNull();

        Map<String, byte[]> expected = finalState(reference.getId());
        Map<String, byte[]> actual = finalState(job.getId());
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (String name : expected.keySet()) {
            assertThat(actual.get(name)).as(name + " bitwise").isEqualTo(expected.get(name));
        }
    }

    private static Map<String, byte[]> finalState(long jobId) throws Exception {
        Checkpoint last = platform.jobs().listJobCheckpoints(jobId).get(0);
        assertThat(last.getStep()).isEqualTo(STEPS);
        return SafetensorsFile.parse(TrainingFlowTest.download(platform, jobId, last.getId(), null))
                .tensors();
    }
}
