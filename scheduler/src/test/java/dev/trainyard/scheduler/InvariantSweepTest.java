package dev.trainyard.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same invariants as {@link DecideProperties}, over a fixed set of seeds with plain JUnit, so they keep guarding
 * the policy whatever happens to the property-testing library.
 */
class InvariantSweepTest {
    private final Scheduler scheduler = new Scheduler();

    static LongStream seeds() {
        return LongStream.range(0, 120);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyDecisionKeepsTheInvariants(long seed) {
        ClusterSnapshot snapshot =
                new ClusterGenerator(seed, ClusterGenerator.Shape.small(10 + (int) (seed % 50))).generate();
        Decision decision = scheduler.decide(snapshot, DecisionInvariants.POLICY);

        DecisionInvariants.checkAll(snapshot, decision);

        Random random = new Random(seed);
        ClusterSnapshot shuffled = new ClusterSnapshot(
                snapshot.now(),
                DecideProperties.shuffle(snapshot.pools(), random),
                DecideProperties.shuffle(snapshot.runners(), random),
                DecideProperties.shuffle(snapshot.projects(), random),
                DecideProperties.shuffle(snapshot.queue(), random),
                DecideProperties.shuffle(snapshot.running(), random));
        assertThat(scheduler.decide(shuffled, DecisionInvariants.POLICY)).isEqualTo(decision);
    }
}
