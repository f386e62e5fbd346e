package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertPlaced;
import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.PipelinePlacementTest.MIB;
import static dev.trainyard.scheduler.PipelinePlacementTest.nodes;
import static dev.trainyard.scheduler.Scenario.attempt;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An elastic job whose replicas are cut between runners starts on as many whole cut replicas as fit now (at least its
 * minimum), every one cut the same way, and grows by whole cut replicas when runners free up or join.
 */
class ElasticCutPipelineTest {

    @Test
    void startsOnEveryReplicaWhenTheRunnersHoldThemAll() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1)
                .runner(3, "a", 1)
                .runner(4, "a", 1)
                .job(job(1).pool("a").replicatedPipelineOf(2, MIB, MIB).minGpus(2));

        assertThat(nodes(scenario, 1))
                .containsExactly(List.of(1L, 1L, 0L), List.of(2L, 1L, 1L), List.of(3L, 1L, 2L), List.of(4L, 1L, 3L));
    }

    @Test
    void startsShortOnOneCutReplicaWhenOnlyTwoRunnersAreFree() {
        Placement placed = assertPlaced(
                snapshot()
                        .pool("a", "cpu", 1)
                        .runner(1, "a", 1)
                        .runner(2, "a", 1)
                        .runner(3, "a", 1)
                        .job(job(1).pool("a").replicatedPipelineOf(2, MIB, MIB).minGpus(2))
                        .decide(),
                1);

        assertThat(placed.gpus())
                .as("one replica of two stages, not three GPUs")
                .isEqualTo(2);
        assertThat(placed.nodes()).extracting(NodeAssignment::gpus).containsExactly(1, 1);
    }

    @Test
    void startsOnTheMostReplicasThatFitBetweenItsMinimumAndItsAsk() {
        // 3 replicas asked, at least 1; five one-device runners hold two cut replicas
        Placement placed = assertPlaced(
                snapshot()
                        .pool("a", "cpu", 1)
                        .runner(1, "a", 1)
                        .runner(2, "a", 1)
                        .runner(3, "a", 1)
                        .runner(4, "a", 1)
                        .runner(5, "a", 1)
                        .job(job(1).pool("a").replicatedPipelineOf(3, MIB, MIB).minGpus(2))
                        .decide(),
                1);

        assertThat(placed.gpus()).isEqualTo(4);
        assertThat(placed.nodes()).hasSize(4);
    }

    @Test
    void aJobThatIsNotElasticStillWaitsForEveryReplica() {
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1)
                .runner(3, "a", 1)
                .runner(4, "a", 1, 0)
                .job(job(1).pool("a").replicatedPipelineOf(2, MIB, MIB))
                .decide();

        assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS);
    }

    @Test
    void belowItsMinimumItWaits() {
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1, 0)
                .runner(3, "a", 1, 0)
                .job(job(1).pool("a").replicatedPipelineOf(2, MIB, MIB).minGpus(2))
                .decide();

        assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS);
    }

    @Test
    void growsByAWholeCutReplicaOntoTwoRunnersThatJoined() {
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1, 0)
                .runner(2, "a", 1, 0)
                .runner(3, "a", 1)
                .runner(4, "a", 1)
                .running(attempt(10).pool("a").on(1, 1).on(2, 1).requested(4).cutReplicasOf(2, MIB, MIB))
                .decide();

        assertThat(decision.resizes())
                .containsExactly(new Resize(
                        10, 10, 2, 4, List.of(new Share(1, 1), new Share(2, 1), new Share(3, 1), new Share(4, 1))));
    }

    @Test
    void doesNotGrowOntoOneRunnerThatHoldsHalfAReplica() {
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1, 0)
                .runner(2, "a", 1, 0)
                .runner(3, "a", 1)
                .running(attempt(10).pool("a").on(1, 1).on(2, 1).requested(4).cutReplicasOf(2, MIB, MIB))
                .decide();

        assertThat(decision.resizes()).isEmpty();
    }

    @Test
    void doesNotGrowOntoRunnersWhoseDevicesCannotHoldAStage() {
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1, 0)
                .runner(2, "a", 1, 0)
                .runnerWithMemory(3, "a", 1, MIB / 2, false)
                .runnerWithMemory(4, "a", 1, MIB / 2, false)
                .running(attempt(10).pool("a").on(1, 1).on(2, 1).requested(4).cutReplicasOf(2, MIB, MIB))
                .decide();

        assertThat(decision.resizes()).isEmpty();
    }
}
