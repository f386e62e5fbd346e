package dev.trainyard.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Invariants of decide over random snapshots; a failure reports the seed that reproduces it. */
class DecideProperties {
    private final Scheduler scheduler = new Scheduler();

    private Decision decide(ClusterSnapshot snapshot) {
        return scheduler.decide(snapshot, DecisionInvariants.POLICY);
    }

    private static ClusterSnapshot cluster(long seed, int jobs) {
        return new ClusterGenerator(seed, ClusterGenerator.Shape.small(jobs)).generate();
    }

    @Property(tries = 150)
    void neverAllocatesMoreThanARunnerHasFree(@ForAll long seed, @ForAll @IntRange(min = 1, max = 60) int jobs) {
        ClusterSnapshot snapshot = cluster(seed, jobs);
        DecisionInvariants.runnersNeverOverfilled(snapshot, decide(snapshot));
    }

    @Property(tries = 150)
    void placementsStayWithinJobShapeAndPool(@ForAll long seed) {
        ClusterSnapshot snapshot = cluster(seed, 40);
        DecisionInvariants.placementsMatchJobShapeAndPool(snapshot, decide(snapshot));
    }

    @Property(tries = 150)
    void neverPlacesBeyondABudget(@ForAll long seed, @ForAll @IntRange(min = 1, max = 60) int jobs) {
        ClusterSnapshot snapshot = cluster(seed, jobs);
        DecisionInvariants.budgetsNeverExceeded(snapshot, decide(snapshot));
    }

    @Property(tries = 150)
    void noJobWaitsBehindLowerPriorityWorkItCouldHaveDisplaced(@ForAll long seed) {
        ClusterSnapshot snapshot = cluster(seed, 50);
        DecisionInvariants.noJobBehindLowerPriorityItCouldDisplace(snapshot, decide(snapshot));
    }

    @Property(tries = 100)
    void sameSnapshotInAnyOrderGivesTheSameDecision(@ForAll long seed) {
        ClusterSnapshot snapshot = cluster(seed, 50);
        Random random = new Random(seed);
        ClusterSnapshot shuffled = new ClusterSnapshot(snapshot.now(), shuffle(snapshot.pools(), random),
                shuffle(snapshot.runners(), random), shuffle(snapshot.projects(), random),
                shuffle(snapshot.queue(), random), shuffle(snapshot.running(), random));

        assertThat(decide(shuffled)).isEqualTo(decide(snapshot));
    }

    @Property(tries = 150)
    void everyQueuedJobIsPlacedOrHasAReason(@ForAll long seed, @ForAll @IntRange(min = 0, max = 60) int jobs) {
        ClusterSnapshot snapshot = cluster(seed, jobs);
        DecisionInvariants.everyJobPlacedOrExplained(snapshot, decide(snapshot));
    }

    @Property(tries = 150)
    void preemptsOnlyStrictlyLowerPriorityOldEnoughWork(@ForAll long seed) {
        ClusterSnapshot snapshot = cluster(seed, 40);
        DecisionInvariants.preemptionsOnlyOfStrictlyLowerOldEnoughWork(snapshot, decide(snapshot));
    }

    static <T> List<T> shuffle(List<T> items, Random random) {
        List<T> copy = new ArrayList<>(items);
        Collections.shuffle(copy, random);
        return copy;
    }
}
