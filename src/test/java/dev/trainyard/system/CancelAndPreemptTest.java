package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobEvent;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Cancel and preempt reach a running job within seconds; it checkpoints first and ends in the right state. */
class CancelAndPreemptTest {
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("steer", Map.of("TRAINYARD_SCHEDULER_MIN_RUNTIME_BEFORE_PREEMPTION", "1s"));
        platform.startRunner("node-a", 2);
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void cancellingARunningJobStopsItWithinSecondsWithAFinalCheckpoint() {
        Job job = platform.jobs().submitJob(Specs.tinyGpt("to-cancel", 2, 2_000, 1_000), null);
        platform.awaitJob(job.getId(), j -> j.getProgress().getStep() >= 5, Duration.ofMinutes(2));

        long asked = System.nanoTime();
        Job answer = platform.jobs().cancelJob(job.getId());
        assertThat(answer.getCancelRequested()).isTrue();
        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofSeconds(30));
        double seconds = (System.nanoTime() - asked) / 1e9;

        assertThat(done.getState()).isEqualTo("CANCELLED");
        assertThat(seconds).as("seconds from cancel to CANCELLED").isLessThan(15);
        List<Checkpoint> checkpoints = platform.jobs().listJobCheckpoints(job.getId());
        assertThat(checkpoints).as("a checkpoint of the step it stopped at").isNotEmpty();
        assertThat(checkpoints.get(0).getStep()).isGreaterThanOrEqualTo(5L).isLessThan(2_000L);
    }

    @Test
    void anUrgentJobPreemptsLowerPriorityWorkWhichResumesAfterwards() {
        JobSpec lowSpec = Specs.tinyGpt("low", 2, 200, 1_000).priority(JobSpec.PriorityEnum.fromValue("low"));
        Job low = platform.jobs().submitJob(lowSpec, null);
        platform.awaitJob(low.getId(), j -> j.getProgress().getStep() >= 5, Duration.ofMinutes(2));

        Job urgent = platform.jobs()
                .submitJob(Specs.tinyGpt("urgent", 2, 30, 30).priority(JobSpec.PriorityEnum.fromValue("urgent")), null);
        platform.awaitJob(low.getId(), j -> "QUEUED".equals(j.getState()), Duration.ofSeconds(30));
        assertThat(platform.jobs().listJobCheckpoints(low.getId()))
                .as("the victim checkpointed first")
                .isNotEmpty();

        assertThat(platform.awaitJob(urgent.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(2))
                        .getState())
                .isEqualTo("SUCCEEDED");
        Job lowDone = platform.awaitJob(low.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));
        assertThat(lowDone.getState()).isEqualTo("SUCCEEDED");
        assertThat(lowDone.getRestarts()).as("preemption is not a failure").isZero();
        assertThat(platform.jobs().listJobEvents(low.getId()))
                .extracting(JobEvent::getReason)
                .contains("PREEMPTION_REQUESTED", "PREEMPTED", "REQUEUED_AFTER_PREEMPTION");
        assertThat(platform.jobs().listJobAttempts(low.getId()).get(1).getResumedFromCheckpoint())
                .isNotNull();
    }
}
