package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertPlaced;
import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Outcomes.placedJobIds;
import static dev.trainyard.scheduler.Scenario.NOW;
import static dev.trainyard.scheduler.Scenario.attempt;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.stream.Stream;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Policy 5: smaller jobs may start ahead of a blocked head job only if they do not delay its reserved start. */
class BackfillTest {
    static final Duration HEAD_START = Duration.ofHours(2);

    /**
     * Runner 1 (8 GPUs) has 6 held by an urgent attempt (never preempted) that ends in two hours, so head job 1 (old,
     * {@code headGpus} GPUs) must wait for it; job 2 is newer and asks for 2 GPUs for {@code runtime}.
     */
    static Scenario blockedHead(int headGpus, Priority headPriority, Duration runtime) {
        return snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 2)
                .running(
                        attempt(10).pool("a").on(1, 6).priority(Priority.URGENT).endsIn(HEAD_START))
                .job(job(1).pool("a").gpus(headGpus).priority(headPriority).submittedAgo(Duration.ofHours(1)))
                .job(job(2).pool("a").gpus(2).runtime(runtime).priority(Priority.NORMAL));
    }

    static Stream<Arguments> cases() {
        SchedulerPolicy defaults = SchedulerPolicy.defaults();
        return Stream.of(
                Arguments.of(
                        "ends before the head's GPUs free up: backfilled",
                        blockedHead(8, Priority.NORMAL, Duration.ofHours(1)),
                        defaults,
                        null),
                Arguments.of(
                        "ends exactly when they free up: backfilled",
                        blockedHead(8, Priority.NORMAL, HEAD_START),
                        defaults,
                        null),
                Arguments.of(
                        "would still run at the head's start: held for a same-priority head",
                        blockedHead(8, Priority.NORMAL, Duration.ofHours(3)),
                        defaults,
                        PendingReason.BEHIND_EARLIER_JOB),
                Arguments.of(
                        "would still run at the head's start: held for a higher-priority head",
                        blockedHead(8, Priority.HIGH, Duration.ofHours(3)),
                        defaults,
                        PendingReason.BEHIND_HIGHER_PRIORITY),
                Arguments.of(
                        "uses GPUs the head will not need: backfilled although long",
                        blockedHead(6, Priority.NORMAL, Duration.ofHours(3)),
                        defaults,
                        null),
                Arguments.of(
                        "backfill off: nothing starts ahead of the head",
                        blockedHead(8, Priority.NORMAL, Duration.ofHours(1)),
                        defaults.withBackfill(false),
                        PendingReason.BEHIND_EARLIER_JOB));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void smallJobStartsOnlyIfTheHeadIsNotDelayed(
            String name, Scenario scenario, SchedulerPolicy policy, PendingReason smallJobWaits) {
        Decision decision = scenario.decide(policy);

        WaitingJob head = assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS);
        assertThat(head.estimatedStart()).isEqualTo(NOW.plus(HEAD_START));
        assertThat(head.queuePosition()).isEqualTo(1);
        if (smallJobWaits == null) {
            assertPlaced(decision, 2);
        } else {
            WaitingJob small = assertWaits(decision, 2, smallJobWaits);
            assertThat(small.aheadJobId()).isEqualTo(1L);
            assertThat(small.estimatedStart()).isEqualTo(NOW.plus(HEAD_START));
        }
    }

    @Test
    void longJobsGoToRunnersTheHeadDoesNotNeed() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 2)
                .runner(2, "a", 8, 2)
                .running(attempt(10).pool("a").on(1, 6).endsIn(HEAD_START))
                .running(attempt(11).pool("a").on(2, 6).endsIn(Duration.ofHours(5)))
                .job(job(1).pool("a").gpus(8).submittedAgo(Duration.ofHours(1)))
                .job(job(2).pool("a").gpus(2).runtime(Duration.ofHours(3)))
                .job(job(3).pool("a").gpus(2).runtime(Duration.ofHours(3)))
                .decide();

        assertThat(placedJobIds(decision)).containsExactly(2L);
        assertThat(assertPlaced(decision, 2).nodes())
                .extracting(NodeAssignment::runnerId)
                .containsExactly(2L);
        assertThat(assertWaits(decision, 3, PendingReason.BEHIND_EARLIER_JOB).aheadJobId())
                .isEqualTo(1L);
    }

    @Test
    void onlyTheFirstBlockedJobOfAPoolHoldsAReservation() {
        Decision decision = blockedHead(8, Priority.NORMAL, Duration.ofHours(3))
                .job(job(3).pool("a").gpus(8).submittedAgo(Duration.ofMinutes(30)))
                .decide();

        assertThat(decision.waiting())
                .extracting(WaitingJob::jobId, WaitingJob::reason, WaitingJob::queuePosition)
                .containsExactly(
                        Tuple.tuple(1L, PendingReason.WAITING_FOR_GPUS, 1),
                        Tuple.tuple(3L, PendingReason.WAITING_FOR_GPUS, 2),
                        Tuple.tuple(2L, PendingReason.BEHIND_EARLIER_JOB, 3));
        assertThat(decision.waiting().get(1).estimatedStart()).isEqualTo(NOW.plus(HEAD_START));
        assertThat(decision.waiting().get(1).aheadJobId()).isNull();
    }

    @Test
    void aJobOfAGpuTypeHoldsGpusInThePoolThatFreesFirst() {
        Decision decision = snapshot()
                .pool("cheap", "h100", 1)
                .runner(1, "cheap", 8, 0)
                .pool("dear", "h100", 3)
                .runner(2, "dear", 8, 0)
                .running(attempt(10)
                        .pool("cheap")
                        .on(1, 8)
                        .priority(Priority.URGENT)
                        .endsIn(Duration.ofHours(3)))
                .running(attempt(11)
                        .pool("dear")
                        .on(2, 8)
                        .priority(Priority.URGENT)
                        .endsIn(Duration.ofHours(1)))
                .job(job(1).gpuType("h100").gpus(8).submittedAgo(Duration.ofHours(1)))
                .job(job(2).pool("dear").gpus(8))
                .job(job(3).pool("cheap").gpus(8))
                .decide();

        assertThat(assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isEqualTo(NOW.plus(Duration.ofHours(1)));
        // Job 1 holds pool "dear"; pool "cheap" is still open, so job 3 heads its line there.
        assertThat(assertWaits(decision, 2, PendingReason.WAITING_FOR_GPUS).aheadJobId())
                .isNull();
        assertThat(assertWaits(decision, 3, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isEqualTo(NOW.plus(Duration.ofHours(3)));
    }

    @Test
    void aPipelineHoldsRunnersWhoseDevicesHoldItsStagesAndLongJobsGoElsewhere() {
        // Two 4 MiB stages fit only runners 3 and 4 (8 MiB). Runner 2 (1 MiB) frees first, at one hour: enough GPUs
        // by count, but the pipeline starts only when runner 3 frees, at two hours, on runners 3 and 4.
        long mib = 1024 * 1024;
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 1, 1, mib, false)
                .runnerWithMemory(2, "a", 1, 0, mib, false)
                .runnerWithMemory(3, "a", 1, 0, 8 * mib, false)
                .runnerWithMemory(4, "a", 1, 1, 8 * mib, false)
                .running(
                        attempt(10).pool("a").on(2, 1).priority(Priority.URGENT).endsIn(Duration.ofHours(1)))
                .running(
                        attempt(11).pool("a").on(3, 1).priority(Priority.URGENT).endsIn(HEAD_START))
                .job(job(1).pool("a").pipelineOf(4 * mib, 4 * mib).submittedAgo(Duration.ofHours(1)))
                .job(job(2).pool("a").gpus(1).runtime(Duration.ofHours(3)))
                .decide();

        assertThat(assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isEqualTo(NOW.plus(HEAD_START));
        // the long job runs past the head's start, so it may not take runner 4's GPU the head needs
        assertThat(assertPlaced(decision, 2).nodes())
                .extracting(NodeAssignment::runnerId)
                .containsExactly(1L);
    }

    @Test
    void aPipelineBehindTheHeadIsEstimatedByRunnersWhoseDevicesHoldItsStages() {
        // The head (one GPU) waits for runner 1 at half an hour. The pipeline's two 4 MiB stages fit only runners 2
        // and 3 (8 MiB), free at one and two hours: by GPU count it could start at one hour (runners 1 and 2), but
        // runner 1's device is too small for either stage, so it starts at two hours.
        long mib = 1024 * 1024;
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 1, 0, mib, false)
                .runnerWithMemory(2, "a", 1, 0, 8 * mib, false)
                .runnerWithMemory(3, "a", 1, 0, 8 * mib, false)
                .running(
                        attempt(10).pool("a").on(1, 1).priority(Priority.URGENT).endsIn(Duration.ofMinutes(30)))
                .running(
                        attempt(11).pool("a").on(2, 1).priority(Priority.URGENT).endsIn(Duration.ofHours(1)))
                .running(
                        attempt(12).pool("a").on(3, 1).priority(Priority.URGENT).endsIn(Duration.ofHours(2)))
                .job(job(1).pool("a").gpus(1).priority(Priority.HIGH).submittedAgo(Duration.ofHours(2)))
                .job(job(2).pool("a").pipelineOf(4 * mib, 4 * mib).submittedAgo(Duration.ofHours(1)))
                .decide();

        assertThat(assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isEqualTo(NOW.plus(Duration.ofMinutes(30)));
        assertThat(assertWaits(decision, 2, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isEqualTo(NOW.plus(Duration.ofHours(2)));
    }
}
