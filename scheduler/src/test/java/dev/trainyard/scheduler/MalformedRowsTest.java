package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertPlaced;
import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Scenario.NOW;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A bad row must cost one job its turn, never the whole cycle. */
class MalformedRowsTest {

    @Test
    void anAbsurdRuntimeBoundMakesOnlyThatJobInvalid() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8)
                .job(job(1).pool("a").runtime(Duration.ofSeconds(Long.MAX_VALUE)))
                .job(job(2).pool("a"))
                .decide();

        assertWaits(decision, 1, PendingReason.INVALID_JOB);
        assertPlaced(decision, 2);
    }

    @Test
    void anAttemptWithAnAbsurdRuntimeBoundDoesNotBreakTheCycle() {
        RunningAttempt attempt = new RunningAttempt(
                10,
                10,
                1,
                1,
                Priority.LOW,
                List.of(new Share(1, 8)),
                8,
                8,
                NOW.minus(Duration.ofHours(1)),
                null,
                Long.MAX_VALUE,
                null,
                BigDecimal.ZERO,
                false);
        ClusterSnapshot snapshot = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 0)
                .job(job(1).pool("a").gpus(8).priority(Priority.HIGH))
                .build();
        ClusterSnapshot withAttempt = new ClusterSnapshot(
                snapshot.now(),
                snapshot.pools(),
                snapshot.runners(),
                snapshot.projects(),
                snapshot.queue(),
                List.of(attempt));

        Decision decision = new Scheduler().decide(withAttempt, SchedulerPolicy.defaults());

        assertThat(decision.preemptions()).extracting(Preemption::attemptId).containsExactly(10L);
    }

    @Test
    void anImplausibleGpuCountIsClamped() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 2_000_000_000)
                .job(job(1).pool("a").gpus(8))
                .decide();

        assertThat(assertPlaced(decision, 1).gpus()).isEqualTo(8);
    }
}
