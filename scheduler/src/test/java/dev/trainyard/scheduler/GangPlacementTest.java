package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertPlaced;
import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Policy 3: all GPUs at once or none; one runner by best fit; several runners only for multi-node jobs. */
class GangPlacementTest {

    /** Runners with 8, 3, 5 and 3 free GPUs (ids 1 to 4). */
    static Scenario mixed() {
        return snapshot()
                .pool("a", "h100", 1)
                .runner(1, "a", 8)
                .runner(2, "a", 8, 3)
                .runner(3, "a", 8, 5)
                .runner(4, "a", 8, 3);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(
                        "tightest runner wins", mixed().job(job(1).pool("a").gpus(4)), List.of(List.of(3L, 4L, 0L))),
                Arguments.of(
                        "ties go to the lower runner id",
                        mixed().job(job(1).pool("a").gpus(3)),
                        List.of(List.of(2L, 3L, 0L))),
                Arguments.of(
                        "exact fit on the big runner",
                        mixed().job(job(1).pool("a").gpus(8)),
                        List.of(List.of(1L, 8L, 0L))),
                Arguments.of(
                        "multi-node still prefers one runner",
                        mixed().job(job(1).pool("a").gpus(5).multiNode()),
                        List.of(List.of(3L, 5L, 0L))),
                Arguments.of(
                        "multi-node spreads over the fewest runners, last piece by best fit",
                        mixed().job(job(1).pool("a").gpus(11).multiNode()),
                        List.of(List.of(1L, 8L, 0L), List.of(2L, 3L, 1L))),
                Arguments.of(
                        "multi-node uses every runner when it must",
                        mixed().job(job(1).pool("a").gpus(19).multiNode()),
                        List.of(List.of(1L, 8L, 0L), List.of(3L, 5L, 1L), List.of(2L, 3L, 2L), List.of(4L, 3L, 3L))),
                Arguments.of(
                        "data-parallel pieces are whole replicas: 2+2 rather than 3+1",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 3)
                                .runner(2, "a", 8, 3)
                                .job(job(1).pool("a").gpus(4).replicasOf(2)),
                        List.of(List.of(1L, 2L, 0L), List.of(2L, 2L, 1L))),
                Arguments.of(
                        "a runner with room for two replicas takes both",
                        mixed().job(job(1).pool("a").gpus(12).replicasOf(4)),
                        List.of(List.of(1L, 8L, 0L), List.of(3L, 4L, 1L))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void placesTheWholeGangOnTheExpectedRunners(String name, Scenario scenario, List<List<Long>> expected) {
        Placement placement = assertPlaced(scenario.decide(), 1);

        List<List<Long>> nodes = placement.nodes().stream()
                .map(n -> List.of(n.runnerId(), (long) n.gpus(), (long) n.rank()))
                .toList();
        assertThat(nodes).isEqualTo(expected);
        assertThat(placement.gpus())
                .isEqualTo(expected.stream().mapToLong(n -> n.get(1)).sum());
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of(
                        "more than any one runner has free, not multi-node",
                        snapshot()
                                .pool("a", "h100", 1)
                                .runner(1, "a", 8, 5)
                                .runner(2, "a", 8, 5)
                                .job(job(1).pool("a").gpus(6))),
                Arguments.of(
                        "more than the whole pool has free, multi-node",
                        mixed().job(job(1).pool("a").gpus(20).multiNode())),
                Arguments.of(
                        "enough GPUs in total but not in whole replicas",
                        mixed().job(job(1).pool("a").gpus(16).replicasOf(4))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void placesNothingRatherThanPartOfAGang(String name, Scenario scenario) {
        Decision decision = scenario.decide();

        assertThat(decision.placements()).isEmpty();
        assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS);
    }
}
