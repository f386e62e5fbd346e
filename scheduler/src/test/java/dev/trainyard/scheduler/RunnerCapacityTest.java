package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Outcomes.placedJobIds;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Policy 8: a runner never gets more GPUs than it has free, counting this cycle's placements. */
class RunnerCapacityTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(
                        "second job of the cycle does not fit into what the first left",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8)
                                .job(job(1).pool("a").gpus(5))
                                .job(job(2).pool("a").gpus(5)),
                        List.of(1L)),
                Arguments.of(
                        "small jobs pack one runner up to its free count",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8)
                                .job(job(1).pool("a").gpus(2))
                                .job(job(2).pool("a").gpus(2))
                                .job(job(3).pool("a").gpus(2))
                                .job(job(4).pool("a").gpus(2))
                                .job(job(5).pool("a").gpus(2)),
                        List.of(1L, 2L, 3L, 4L)),
                Arguments.of(
                        "GPUs held by running attempts are not free",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 3)
                                .job(job(1).pool("a").gpus(4)),
                        List.of()),
                Arguments.of(
                        "a draining runner gets nothing even with free GPUs",
                        snapshot()
                                .pool("a", "h100", 1)
                                .drainingRunner(1, "a", 8)
                                .runner(2, "a", 8, 1)
                                .job(job(1).pool("a").gpus(2)),
                        List.of()),
                Arguments.of(
                        "a row claiming more free than total is clamped",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 4, 9)
                                .job(job(1).pool("a").gpus(4))
                                .job(job(2).pool("a").gpus(1)),
                        List.of(1L)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void neverOverfillsARunner(String name, Scenario scenario, List<Long> expectedPlaced) {
        Decision decision = scenario.decide();

        assertThat(placedJobIds(decision)).isEqualTo(expectedPlaced);
        decision.waiting().forEach(w -> assertWaits(decision, w.jobId(), PendingReason.WAITING_FOR_GPUS));
    }
}
