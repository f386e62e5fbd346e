package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.Limits;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A runner stopped on purpose (SIGTERM, as Ctrl-C or a supervisor sends it) checkpoints its job before it goes:
 * the job resumes on another runner from the checkpoint written at the stop, without using a restart, so a job
 * allowed no restarts at all survives it.
 */
class RunnerStopTest {
    static final long STEPS = 400;
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("runnerstop");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void aRunnerStoppedWithSigtermCheckpointsItsJobWhichResumesElsewhereWithoutARestart() {
        ManagedProcess first = platform.startRunner("stop-a", 2);
        // the only periodic checkpoint is the last step's: any earlier one was written for the stop
        JobSpec spec = Specs.tinyGpt("stopped", 2, STEPS, (int) STEPS)
                .limits(new Limits().maxRuntimeSeconds(3600L).maxRestarts(0));
        Job job = platform.jobs().submitJob(spec, null);
        platform.awaitJob(job.getId(), j -> j.getProgress().getStep() >= 10, Duration.ofMinutes(3));

        first.terminate();
        assertThat(first.alive()).as("the runner ended within 30 s of SIGTERM").isFalse();

        Job requeued = platform.awaitJob(job.getId(), j -> "QUEUED".equals(j.getState()), Duration.ofSeconds(30));
        assertThat(requeued.getRestarts()).isZero();
        assertThat(requeued.getStateReason()).isEqualTo("REQUEUED_RUNNER_STOPPED");
        List<Checkpoint> written = platform.jobs().listJobCheckpoints(job.getId());
        assertThat(written).as("the checkpoint written at the stop").hasSize(1);
        Checkpoint atStop = written.get(0);
        assertThat(atStop.getStep()).isBetween(10L, STEPS - 1);

        platform.startRunner("stop-b", 2);
        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(4));
        assertThat(done.getState()).isEqualTo("SUCCEEDED");
        assertThat(done.getRestarts()).isZero();
        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0).getEndReason()).startsWith("RUNNER_STOPPED");
        assertThat(attempts.get(1).getRunner()).isEqualTo("stop-b");
        assertThat(attempts.get(1).getResumedFromCheckpoint()).isEqualTo(atStop.getId());
    }
}
