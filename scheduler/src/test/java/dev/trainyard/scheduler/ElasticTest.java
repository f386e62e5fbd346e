package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertPlaced;
import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Scenario.attempt;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Policy 4: elastic jobs start short when the pool is short, and grow when GPUs idle. */
class ElasticTest {

    static Stream<Arguments> starts() {
        return Stream.of(
                Arguments.of(
                        "starts with the most available at or above its minimum",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 5)
                                .job(job(1).pool("a").gpus(8).minGpus(2)),
                        5),
                Arguments.of(
                        "takes everything it asked for when it is there",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8)
                                .job(job(1).pool("a").gpus(6).minGpus(2)),
                        6),
                Arguments.of(
                        "multi-node elastic takes the whole pool's free GPUs",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 3)
                                .runner(2, "a", 8, 2)
                                .job(job(1).pool("a").gpus(16).minGpus(4).multiNode()),
                        5),
                Arguments.of(
                        "the project's budget can shrink it (1 USD/GPU-hour, 2.5 USD left)",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8)
                                .project("p", 2.5)
                                .job(job(1).pool("a").project("p").gpus(4).minGpus(1)),
                        2));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("starts")
    void elasticJobStartsWithWhatIsThere(String name, Scenario scenario, int expectedGpus) {
        assertThat(assertPlaced(scenario.decide(), 1).gpus()).isEqualTo(expectedGpus);
    }

    @Test
    void elasticJobBelowItsMinimumWaits() {
        Decision decision = snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, 1)
                .job(job(1).pool("a").gpus(8).minGpus(2))
                .decide();

        assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS);
    }

    /** Attempt 10 holds 4 of runner 1's 8 GPUs but asked for 8. */
    static Scenario shortAttempt(int freeGpus) {
        return snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8, freeGpus)
                .running(attempt(10).pool("a").on(1, 4).requested(8));
    }

    static Stream<Arguments> growth() {
        SchedulerPolicy defaults = SchedulerPolicy.defaults();
        return Stream.of(
                Arguments.of("grows to what it asked for", shortAttempt(4), defaults, List.of(8)),
                Arguments.of("grows as far as free GPUs allow", shortAttempt(2), defaults, List.of(6)),
                Arguments.of(
                        "no growth when growth is off", shortAttempt(4), defaults.withElasticGrowth(false), List.of()),
                Arguments.of(
                        "no growth while a queued job waits for the pool",
                        shortAttempt(4).job(job(1).pool("a").gpus(6)),
                        defaults,
                        List.of()),
                Arguments.of(
                        "queued jobs are placed first, growth gets the rest",
                        shortAttempt(4).job(job(1).pool("a").gpus(1)),
                        defaults,
                        List.of(7)),
                Arguments.of(
                        "no growth for an attempt that is being preempted",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 4)
                                .running(attempt(10)
                                        .pool("a")
                                        .on(1, 4)
                                        .requested(8)
                                        .preempting()),
                        defaults,
                        List.of()),
                Arguments.of(
                        "no growth the project cannot afford",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 4)
                                .project("p", 1.0)
                                .running(attempt(10)
                                        .project("p")
                                        .pool("a")
                                        .on(1, 4)
                                        .requested(8)),
                        defaults,
                        List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("growth")
    void shortElasticAttemptGrowsWhenNobodyWaits(
            String name, Scenario scenario, SchedulerPolicy policy, List<Integer> expectedSizes) {
        Decision decision = scenario.decide(policy);

        assertThat(decision.resizes()).extracting(Resize::gpus).isEqualTo(expectedSizes);
        decision.resizes().forEach(resize -> {
            assertThat(resize.attemptId()).isEqualTo(10);
            assertThat(resize.fromGpus()).isEqualTo(4);
            assertThat(resize.runners()).containsExactly(new Share(1, resize.gpus()));
        });
    }
}
