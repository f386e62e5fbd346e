package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Outcomes.preemptedAttemptIds;
import static dev.trainyard.scheduler.Scenario.NOW;
import static dev.trainyard.scheduler.Scenario.attempt;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Policy 6: strictly lower-priority work is preempted, least work lost first, only when it makes the job fit. */
class PreemptionTest {
    static final long MIB = 1024 * 1024;

    /** Two full 8-GPU runners, each with one 8-GPU attempt (10 on runner 1, 11 on runner 2). */
    static Scenario fullPool(Priority victims) {
        return snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 0)
                .runner(2, "a", 8, 0)
                .running(attempt(10).pool("a").on(1, 8).priority(victims).checkpointedAgo(Duration.ofMinutes(50)))
                .running(attempt(11).pool("a").on(2, 8).priority(victims).checkpointedAgo(Duration.ofMinutes(5)));
    }

    static Stream<Arguments> cases() {
        SchedulerPolicy defaults = SchedulerPolicy.defaults();
        return Stream.of(
                Arguments.of(
                        "high preempts low, the one that loses least work",
                        fullPool(Priority.LOW).job(job(1).pool("a").gpus(8).priority(Priority.HIGH)),
                        defaults,
                        List.of(11L),
                        PendingReason.WAITING_FOR_PREEMPTION),
                Arguments.of(
                        "urgent preempts normal",
                        fullPool(Priority.NORMAL).job(job(1).pool("a").gpus(4).priority(Priority.URGENT)),
                        defaults,
                        List.of(11L),
                        PendingReason.WAITING_FOR_PREEMPTION),
                Arguments.of(
                        "never equal priority",
                        fullPool(Priority.HIGH).job(job(1).pool("a").gpus(8).priority(Priority.HIGH)),
                        defaults,
                        List.of(),
                        PendingReason.WAITING_FOR_GPUS),
                Arguments.of(
                        "never higher priority",
                        fullPool(Priority.URGENT).job(job(1).pool("a").gpus(8).priority(Priority.HIGH)),
                        defaults,
                        List.of(),
                        PendingReason.WAITING_FOR_GPUS),
                Arguments.of(
                        "without a checkpoint the time since start is the work lost",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 0)
                                .runner(2, "a", 8, 0)
                                .running(attempt(10)
                                        .pool("a")
                                        .on(1, 8)
                                        .priority(Priority.LOW)
                                        .startedAgo(Duration.ofMinutes(30)))
                                .running(attempt(11)
                                        .pool("a")
                                        .on(2, 8)
                                        .priority(Priority.LOW)
                                        .startedAgo(Duration.ofHours(3))
                                        .checkpointedAgo(Duration.ofMinutes(40)))
                                .job(job(1).pool("a").gpus(8).priority(Priority.HIGH)),
                        defaults,
                        List.of(10L),
                        PendingReason.WAITING_FOR_PREEMPTION),
                Arguments.of(
                        "attempts younger than the minimum runtime are spared",
                        fullPool(Priority.LOW).job(job(1).pool("a").gpus(8).priority(Priority.HIGH)),
                        defaults.withMinRuntimeBeforePreemption(Duration.ofHours(3)),
                        List.of(),
                        PendingReason.WAITING_FOR_GPUS),
                Arguments.of(
                        "preemption off",
                        fullPool(Priority.LOW).job(job(1).pool("a").gpus(8).priority(Priority.HIGH)),
                        defaults.withPreemption(false),
                        List.of(),
                        PendingReason.WAITING_FOR_GPUS),
                Arguments.of(
                        "multi-node job takes victims on several runners",
                        fullPool(Priority.LOW)
                                .job(job(1).pool("a").gpus(12).multiNode().priority(Priority.HIGH)),
                        defaults,
                        List.of(10L, 11L),
                        PendingReason.WAITING_FOR_PREEMPTION),
                Arguments.of(
                        "no preemption for a job whose budget check fails",
                        fullPool(Priority.LOW)
                                .project("poor", 1.0)
                                .job(job(1).pool("a").project("poor").gpus(8).priority(Priority.HIGH)),
                        defaults,
                        List.of(),
                        PendingReason.BUDGET_EXHAUSTED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void preemptsOnlyWhatTheRulesAllow(
            String name,
            Scenario scenario,
            SchedulerPolicy policy,
            List<Long> expectedVictims,
            PendingReason expectedReason) {
        Decision decision = scenario.decide(policy);

        assertThat(preemptedAttemptIds(decision)).isEqualTo(expectedVictims);
        assertThat(decision.preemptions()).allSatisfy(p -> {
            assertThat(p.forJobId()).isEqualTo(1);
            assertThat(p.reason()).isEqualTo(PreemptionReason.HIGHER_PRIORITY_JOB);
        });
        assertWaits(decision, 1, expectedReason);
    }

    @Test
    void preemptsOnlyAsMuchAsTheJobNeeds() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 0)
                .running(attempt(10).pool("a").on(1, 2).priority(Priority.LOW).checkpointedAgo(Duration.ofMinutes(1)))
                .running(attempt(11).pool("a").on(1, 4).priority(Priority.LOW).checkpointedAgo(Duration.ofMinutes(2)))
                .running(attempt(12).pool("a").on(1, 2).priority(Priority.LOW).checkpointedAgo(Duration.ofMinutes(3)))
                .job(job(1).pool("a").gpus(4).priority(Priority.HIGH))
                .decide();

        // 10 then 11 would be picked in work-lost order; 11 alone frees enough, so 10 is spared.
        assertThat(preemptedAttemptIds(decision)).containsExactly(11L);
        assertThat(assertWaits(decision, 1, PendingReason.WAITING_FOR_PREEMPTION)
                        .estimatedStart())
                .isEqualTo(NOW.plus(SchedulerPolicy.defaults().preemptionGrace()));
    }

    @Test
    void victimsThatCannotMakeTheJobFitAreLeftAlone() {
        // Each runner has 4 GPUs of low work and 4 of urgent work: no single runner can reach 8.
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 0)
                .runner(2, "a", 8, 0)
                .running(attempt(10).pool("a").on(1, 4).priority(Priority.LOW))
                .running(attempt(11).pool("a").on(2, 4).priority(Priority.LOW))
                .running(attempt(12).pool("a").on(1, 4).priority(Priority.URGENT))
                .running(attempt(13).pool("a").on(2, 4).priority(Priority.URGENT))
                .job(job(1).pool("a").gpus(8).priority(Priority.HIGH))
                .decide();

        assertThat(decision.preemptions()).isEmpty();
        assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS);
    }

    @Test
    void attemptsAlreadyStoppingAreWaitedForNotAddedTo() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 0)
                .runner(2, "a", 8, 0)
                .running(attempt(10).pool("a").on(1, 8).priority(Priority.LOW).preempting())
                .running(attempt(11).pool("a").on(2, 8).priority(Priority.LOW))
                .job(job(1).pool("a").gpus(8).priority(Priority.HIGH))
                .decide();

        assertThat(decision.preemptions()).isEmpty();
        assertWaits(decision, 1, PendingReason.WAITING_FOR_PREEMPTION);
    }

    @Test
    void gpusFreedByPreemptionAreHeldForTheJob() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 2)
                .running(attempt(10).pool("a").on(1, 6).priority(Priority.LOW))
                .job(job(1).pool("a").gpus(8).priority(Priority.HIGH))
                .job(job(2).pool("a").gpus(2).runtime(Duration.ofHours(1)))
                .decide();

        assertThat(preemptedAttemptIds(decision)).containsExactly(10L);
        WaitingJob small = assertWaits(decision, 2, PendingReason.BEHIND_HIGHER_PRIORITY);
        assertThat(small.aheadJobId()).isEqualTo(1L);
    }

    @Test
    void waitsInsteadOfPreemptingWhenGpusComeBackWithinTheGracePeriod() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 0)
                .running(attempt(10).pool("a").on(1, 8).priority(Priority.LOW).endsIn(Duration.ofMinutes(2)))
                .job(job(1).pool("a").gpus(8).priority(Priority.HIGH))
                .decide();

        assertThat(decision.preemptions()).isEmpty();
        WaitingJob entry = assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS);
        assertThat(entry.estimatedStart()).isEqualTo(NOW.plus(Duration.ofMinutes(2)));
    }

    /**
     * A HIGH pipeline of two 4 MiB stages with one GPU free on runner 3 (8 MiB): runner 1 (8 MiB) and runner 2 (1
     * MiB, too small for either stage) each run a one-GPU LOW attempt; runner 2's loses less work if stopped.
     */
    static Scenario pipelineBesideASmallRunner(Priority onTheLargeRunner) {
        return snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 1, 0, 8 * MIB, false)
                .runnerWithMemory(2, "a", 1, 0, MIB, false)
                .runnerWithMemory(3, "a", 1, 1, 8 * MIB, false)
                .running(attempt(10)
                        .pool("a")
                        .on(1, 1)
                        .priority(onTheLargeRunner)
                        .checkpointedAgo(Duration.ofMinutes(50))
                        .endsIn(Duration.ofHours(2)))
                .running(attempt(11).pool("a").on(2, 1).priority(Priority.LOW).checkpointedAgo(Duration.ofMinutes(5)))
                .job(job(1).pool("a").pipelineOf(4 * MIB, 4 * MIB).priority(Priority.HIGH));
    }

    @Test
    void aPipelinePreemptsWorkOnARunnerWhoseDevicesHoldItsStageNotTheCheapestVictim() {
        Decision decision = pipelineBesideASmallRunner(Priority.LOW).decide();

        // stopping 11 would free a GPU whose 1 MiB holds no stage: the job could still not be placed
        assertThat(preemptedAttemptIds(decision)).containsExactly(10L);
        assertThat(assertWaits(decision, 1, PendingReason.WAITING_FOR_PREEMPTION)
                        .estimatedStart())
                .isEqualTo(NOW.plus(SchedulerPolicy.defaults().preemptionGrace()));
    }

    @Test
    void aPipelinePreemptsNothingWhenOnlyRunnersTooSmallForItsStagesHoldLowerWork() {
        Decision decision = pipelineBesideASmallRunner(Priority.URGENT).decide();

        assertThat(decision.preemptions()).isEmpty();
        // it waits for the urgent attempt on the 8 MiB runner instead
        assertThat(assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isEqualTo(NOW.plus(Duration.ofHours(2)));
    }
}
