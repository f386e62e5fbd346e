package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Outcomes.placedJobIds;
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

/** Policy 2: priority, then fair share between projects, then age, then id decide who goes first. */
class QueueOrderTest {

    /** One single-GPU slot, so exactly the first job in order is placed. */
    static Scenario oneSlot() {
        return snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 1)
                .project("heavy", null, 0, 1, 100)
                .project("light", null, 0, 1, 0)
                .project("weighted", null, 0, 10, 100);
    }

    static Stream<Arguments> cases() {
        Duration older = Duration.ofHours(2);
        Duration newer = Duration.ofMinutes(5);
        return Stream.of(
                Arguments.of(
                        "higher priority first, even when newer",
                        oneSlot()
                                .job(job(1).pool("a").submittedAgo(older))
                                .job(job(2).pool("a").priority(Priority.HIGH).submittedAgo(newer)),
                        2L),
                Arguments.of(
                        "urgent before high",
                        oneSlot()
                                .job(job(1).pool("a").priority(Priority.HIGH))
                                .job(job(2).pool("a").priority(Priority.URGENT)),
                        2L),
                Arguments.of(
                        "same class: the project with less usage per share first",
                        oneSlot()
                                .job(job(1).pool("a").project("heavy").submittedAgo(older))
                                .job(job(2).pool("a").project("light").submittedAgo(newer)),
                        2L),
                Arguments.of(
                        "a larger share makes the same usage weigh less",
                        oneSlot()
                                .project("light", null, 0, 1, 20)
                                .job(job(1).pool("a").project("weighted").submittedAgo(newer))
                                .job(job(2).pool("a").project("light").submittedAgo(older)),
                        1L),
                Arguments.of(
                        "priority beats fair share",
                        oneSlot()
                                .job(job(1).pool("a").project("heavy").priority(Priority.HIGH))
                                .job(job(2).pool("a").project("light")),
                        1L),
                Arguments.of(
                        "same project and class: older first",
                        oneSlot()
                                .job(job(1).pool("a").submittedAgo(newer))
                                .job(job(2).pool("a").submittedAgo(older)),
                        2L),
                Arguments.of(
                        "everything equal: lower id first",
                        oneSlot().job(job(9).pool("a")).job(job(4).pool("a")),
                        4L));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void firstInOrderGetsTheSlot(String name, Scenario scenario, long expectedJob) {
        assertThat(placedJobIds(scenario.decide())).containsExactly(expectedJob);
    }

    @Test
    void gpusGrantedThisCycleCountTowardsFairShare() {
        Scenario scenario = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 2)
                .project("p", null)
                .project("q", null)
                .job(job(1).pool("a").project("p").submittedAgo(Duration.ofHours(3)))
                .job(job(2).pool("a").project("p").submittedAgo(Duration.ofHours(2)))
                .job(job(3).pool("a").project("q").submittedAgo(Duration.ofHours(1)));

        Decision decision = scenario.decide();

        assertThat(placedJobIds(decision)).containsExactly(1L, 3L);
        assertWaits(decision, 2, PendingReason.WAITING_FOR_GPUS);
    }

    @Test
    void waitingJobsAreListedInQueueOrderWithPositions() {
        Scenario scenario = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 1, 0)
                .job(job(1).pool("a").submittedAgo(Duration.ofMinutes(1)))
                .job(job(2).pool("a").priority(Priority.HIGH))
                .job(job(3).pool("a").submittedAgo(Duration.ofMinutes(9)));

        List<WaitingJob> waiting = scenario.decide().waiting();

        assertThat(waiting).extracting(WaitingJob::jobId).containsExactly(2L, 3L, 1L);
        assertThat(waiting).extracting(WaitingJob::queuePosition).containsExactly(1, 2, 3);
    }

    @Test
    void usageGrantedInAHigherClassCountsInLowerOnes() {
        Scenario scenario = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 2)
                .project("p", null)
                .project("q", null)
                .job(job(1).pool("a").project("p").priority(Priority.HIGH))
                .job(job(2).pool("a").project("p").submittedAgo(Duration.ofHours(2)))
                .job(job(3).pool("a").project("q").submittedAgo(Duration.ofHours(1)));

        assertThat(placedJobIds(scenario.decide())).containsExactly(1L, 3L);
    }
}
