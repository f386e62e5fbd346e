package dev.trainyard.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invariants of decide over random snapshots, as plain parameterized JUnit tests: each case is a seed (and a
 * queue length drawn from it), so a failure names the seed that reproduces it.
 */
class DecideProperties {
    private static final int TRIES = 150;

    /** Seeds drawn from a fixed generator, so every run checks the same snapshots. */
    static Stream<Long> seeds() {
        Random random = new Random(20261123L);
        return LongStream.range(0, TRIES).map(i -> random.nextLong()).boxed();
    }

    /** A seed and a queue length between 1 and 60. */
    static Stream<Arguments> seedsAndSizes() {
        Random random = new Random(7L);
        return seeds().map(seed -> Arguments.of(seed, 1 + random.nextInt(60)));
    }

    private final Scheduler scheduler = new Scheduler();

    private Decision decide(ClusterSnapshot snapshot) {
        return scheduler.decide(snapshot, DecisionInvariants.POLICY);
    }

    private static ClusterSnapshot cluster(long seed, int jobs) {
        return new ClusterGenerator(seed, ClusterGenerator.Shape.small(jobs)).generate();
    }

    @ParameterizedTest(name = "seed {0}, {1} jobs")
    @MethodSource("seedsAndSizes")
    void neverAllocatesMoreThanARunnerHasFree(long seed, int jobs) {
        ClusterSnapshot snapshot = cluster(seed, jobs);
        DecisionInvariants.runnersNeverOverfilled(snapshot, decide(snapshot));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void placementsStayWithinJobShapeAndPool(long seed) {
        ClusterSnapshot snapshot = cluster(seed, 40);
        DecisionInvariants.placementsMatchJobShapeAndPool(snapshot, decide(snapshot));
    }

    @ParameterizedTest(name = "seed {0}, {1} jobs")
    @MethodSource("seedsAndSizes")
    void neverPlacesBeyondABudget(long seed, int jobs) {
        ClusterSnapshot snapshot = cluster(seed, jobs);
        DecisionInvariants.budgetsNeverExceeded(snapshot, decide(snapshot));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void noJobWaitsBehindLowerPriorityWorkItCouldHaveDisplaced(long seed) {
        ClusterSnapshot snapshot = cluster(seed, 50);
        DecisionInvariants.noJobBehindLowerPriorityItCouldDisplace(snapshot, decide(snapshot));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void sameSnapshotInAnyOrderGivesTheSameDecision(long seed) {
        ClusterSnapshot snapshot = cluster(seed, 50);
        Random random = new Random(seed);
        ClusterSnapshot shuffled = new ClusterSnapshot(
                snapshot.now(),
                shuffle(snapshot.pools(), random),
                shuffle(snapshot.runners(), random),
                shuffle(snapshot.projects(), random),
                shuffle(snapshot.queue(), random),
                shuffle(snapshot.running(), random));

        assertThat(decide(shuffled)).isEqualTo(decide(snapshot));
    }

    @ParameterizedTest(name = "seed {0}, {1} jobs")
    @MethodSource("seedsAndSizes")
    void everyQueuedJobIsPlacedOrHasAReason(long seed, int jobs) {
        ClusterSnapshot snapshot = cluster(seed, jobs);
        DecisionInvariants.everyJobPlacedOrExplained(snapshot, decide(snapshot));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void preemptsOnlyStrictlyLowerPriorityOldEnoughWork(long seed) {
        ClusterSnapshot snapshot = cluster(seed, 40);
        DecisionInvariants.preemptionsOnlyOfStrictlyLowerOldEnoughWork(snapshot, decide(snapshot));
    }

    @ParameterizedTest(name = "seed {0}, {1} jobs")
    @MethodSource("seedsAndSizes")
    void aPreemptionAlwaysMakesItsJobPlaceable(long seed, int jobs) {
        ClusterSnapshot snapshot = cluster(seed, jobs);
        DecisionInvariants.preemptionsMakeTheirJobPlaceable(snapshot, decide(snapshot));
    }

    static <T> List<T> shuffle(List<T> items, Random random) {
        List<T> copy = new ArrayList<>(items);
        Collections.shuffle(copy, random);
        return copy;
    }
}
