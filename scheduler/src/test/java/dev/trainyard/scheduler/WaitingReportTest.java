package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertPlaced;
import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Scenario.NOW;
import static dev.trainyard.scheduler.Scenario.attempt;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** Why-not is data: every waiting job gets a reason, a position in its home pool's queue and, where known, a start. */
class WaitingReportTest {

    @Test
    void jobsBeyondThePlacementCapWaitForTheNextCycle() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8)
                .job(job(1).pool("a"))
                .job(job(2).pool("a"))
                .decide(SchedulerPolicy.defaults().withMaxPlacementsPerCycle(1));

        assertPlaced(decision, 1);
        assertWaits(decision, 2, PendingReason.PLACEMENT_LIMIT);
    }

    @Test
    void laterJobsGetTheEarliestMomentEnoughGpusComeBack() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 0)
                .runner(2, "a", 4, 0)
                .running(
                        attempt(10).pool("a").on(1, 8).priority(Priority.URGENT).endsIn(Duration.ofHours(1)))
                .running(
                        attempt(11).pool("a").on(2, 4).priority(Priority.URGENT).endsIn(Duration.ofHours(3)))
                .job(job(1).pool("a").gpus(8).submittedAgo(Duration.ofHours(1)))
                .job(job(2).pool("a").gpus(4))
                .decide();

        assertThat(assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isEqualTo(NOW.plus(Duration.ofHours(1)));
        // A lower bound: job 1 will take runner 1 then, so job 2 may well start later.
        assertThat(assertWaits(decision, 2, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isEqualTo(NOW.plus(Duration.ofHours(1)));
    }

    @Test
    void noEstimateWhenNothingRunningWillFreeTheGpus() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 4)
                .job(job(1).pool("a").gpus(8))
                .decide();

        assertThat(assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isNull();
    }

    @Test
    void positionsCountEveryWaitingJobThatMatchesTheHomePool() {
        Decision decision = snapshot()
                .pool("cheap", "h100", 1)
                .runner(1, "cheap", 8, 0)
                .pool("dear", "h100", 3)
                .runner(2, "dear", 8, 0)
                .job(job(1).pool("dear").submittedAgo(Duration.ofMinutes(3)))
                .job(job(2).gpuType("h100").submittedAgo(Duration.ofMinutes(2)))
                .job(job(3).pool("cheap").submittedAgo(Duration.ofMinutes(1)))
                .job(job(4).pool("dear").gpus(9).submittedAgo(Duration.ZERO))
                .decide();

        assertThat(decision.waiting())
                .extracting(WaitingJob::jobId, WaitingJob::queuePosition)
                .containsExactly(Tuple.tuple(1L, 1), Tuple.tuple(2L, 1), Tuple.tuple(3L, 2), Tuple.tuple(4L, 3));
        assertWaits(decision, 4, PendingReason.NO_POOL_FITS);
    }

    @Test
    void noPositionWhenNoPoolMatches() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8)
                .job(job(1).gpuType("tpu"))
                .decide();

        assertThat(assertWaits(decision, 1, PendingReason.NO_POOL_FITS).queuePosition())
                .isZero();
    }
}
