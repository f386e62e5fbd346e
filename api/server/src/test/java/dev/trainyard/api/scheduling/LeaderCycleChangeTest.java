package dev.trainyard.api.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.jobs.JobsChanged;
import dev.trainyard.scheduler.Decision;
import dev.trainyard.scheduler.NodeAssignment;
import dev.trainyard.scheduler.Placement;
import dev.trainyard.scheduler.SchedulerPolicy;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Whom an applied decision wakes: the runners it placed work on, everyone for stops, the scheduler if work is left. */
class LeaderCycleChangeTest {
    private static final SchedulerPolicy POLICY = SchedulerPolicy.defaults();

    private static Placement placement(long job, long... runners) {
        List<NodeAssignment> nodes = new java.util.ArrayList<>();
        for (int i = 0; i < runners.length; i++) {
            nodes.add(new NodeAssignment(runners[i], 1, i));
        }
        return new Placement(job, 1, 1, nodes, runners.length, BigDecimal.ZERO);
    }

    private static Decision placing(List<Placement> placements) {
        return new Decision(placements, List.of(), List.of(), List.of(), List.of());
    }

    @Test
    void placementsWakeExactlyTheRunnersTheyUse() {
        Decision d = placing(List.of(placement(1, 10), placement(2, 11, 12)));

        JobsChanged change = LeaderCycle.changeOf(d, new DecisionApplier.Applied(2, 0, 0, 0), POLICY);

        assertThat(change.allRunners()).isFalse();
        assertThat(change.runners()).containsExactlyInAnyOrder(10L, 11L, 12L);
        assertThat(change.schedule()).as("nothing left undone").isFalse();
    }

    @Test
    void aSkippedPlacementOrTheCapAsksForAnotherCycle() {
        Decision d = placing(List.of(placement(1, 10), placement(2, 11)));

        assertThat(LeaderCycle.changeOf(d, new DecisionApplier.Applied(1, 1, 0, 0), POLICY)
                        .schedule())
                .isTrue();
        assertThat(LeaderCycle.changeOf(d, new DecisionApplier.Applied(2, 0, 0, 0), POLICY.withMaxPlacementsPerCycle(2))
                        .schedule())
                .isTrue();
    }

    @Test
    void stopRequestsWakeEveryRunner() {
        JobsChanged change = LeaderCycle.changeOf(placing(List.of()), new DecisionApplier.Applied(0, 0, 1, 0), POLICY);

        assertThat(change.allRunners()).isTrue();
    }

    @Test
    void aDecisionThatChangedNothingWakesNobody() {
        assertThat(LeaderCycle.changeOf(placing(List.of()), new DecisionApplier.Applied(0, 0, 0, 3), POLICY)
                        .isEmpty())
                .isTrue();
        assertThat(LeaderCycle.changeOf(
                                placing(List.of()),
                                new DecisionApplier.Applied(0, 0, 0, 0),
                                POLICY.withMaxPlacementsPerCycle(0))
                        .schedule())
                .as("a cap of 0 places nothing: no endless wake-ups")
                .isFalse();
    }
}
