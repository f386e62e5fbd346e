package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertPlaced;
import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Scenario.attempt;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Elastic data-parallel jobs: they start short in whole replicas, grow onto runners that join the pool, come back
 * on the runners left after a loss, and never go below their minimum.
 */
class ElasticDataParallelTest {

    @Test
    void startsShortOnTheOnlyRunnerWithOneReplica() {
        Placement placed = assertPlaced(
                snapshot()
                        .pool("a", "cpu", 1)
                        .runner(1, "a", 1)
                        .job(job(1).pool("a").gpus(2).minGpus(1).replicasOf(1))
                        .decide(),
                1);

        assertThat(placed.gpus()).isEqualTo(1);
        assertThat(placed.nodes()).containsExactly(new NodeAssignment(1, 1, 0));
    }

    @Test
    void startsWithWholeReplicasOnly() {
        // 3 + 2 free GPUs hold two replicas of 2 GPUs, not five GPUs
        Placement placed = assertPlaced(
                snapshot()
                        .pool("a", "cpu", 1)
                        .runner(1, "a", 4, 3)
                        .runner(2, "a", 4, 2)
                        .job(job(1).pool("a").gpus(8).minGpus(2).replicasOf(2))
                        .decide(),
                1);

        assertThat(placed.gpus()).isEqualTo(4);
        assertThat(placed.nodes()).extracting(NodeAssignment::gpus).containsExactly(2, 2);
    }

    @Test
    void aJobOnOneRunnerAlsoStartsWithWholeReplicas() {
        Placement placed = assertPlaced(
                snapshot()
                        .pool("a", "cpu", 1)
                        .runner(1, "a", 8, 5)
                        .job(job(1).pool("a").gpus(8).minGpus(2).oneRunnerReplicasOf(2))
                        .decide(),
                1);

        assertThat(placed.gpus()).isEqualTo(4);
    }

    @Test
    void growsOntoARunnerThatJoinedThePool() {
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1, 0)
                .runner(2, "a", 1)
                .running(attempt(10).pool("a").on(1, 1).requested(2).replicasOf(1))
                .decide();

        assertThat(decision.resizes())
                .containsExactly(new Resize(10, 10, 1, 2, List.of(new Share(1, 1), new Share(2, 1))));
    }

    @Test
    void growsByWholeReplicasOnly() {
        // runner 2 has 3 free GPUs: one more replica of 2, not 3 GPUs
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 2, 0)
                .runner(2, "a", 4, 3)
                .running(attempt(10).pool("a").on(1, 2).requested(6).replicasOf(2))
                .decide();

        assertThat(decision.resizes())
                .containsExactly(new Resize(10, 10, 2, 4, List.of(new Share(1, 2), new Share(2, 2))));
    }

    @Test
    void aSingleRunnerJobDoesNotGrowOntoOtherRunners() {
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1, 0)
                .runner(2, "a", 1)
                .running(attempt(10).pool("a").on(1, 1).requested(2))
                .decide();

        assertThat(decision.resizes()).isEmpty();
    }

    @Test
    void afterARunnerIsLostTheJobComesBackOnTheRunnersLeft() {
        // the job asked for three replicas of 1 GPU and at least two; its third runner is gone
        Placement placed = assertPlaced(
                snapshot()
                        .pool("a", "cpu", 1)
                        .runner(1, "a", 1)
                        .runner(2, "a", 1)
                        .job(job(1).pool("a").gpus(3).minGpus(2).replicasOf(1))
                        .decide(),
                1);

        assertThat(placed.gpus()).isEqualTo(2);
        assertThat(placed.nodes()).extracting(NodeAssignment::runnerId).containsExactly(1L, 2L);
    }

    @Test
    void neverBelowItsMinimum() {
        assertWaits(
                snapshot()
                        .pool("a", "cpu", 1)
                        .runner(1, "a", 1)
                        .runner(2, "a", 2, 0)
                        .job(job(1).pool("a").gpus(3).minGpus(2).replicasOf(1))
                        .decide(),
                1,
                PendingReason.WAITING_FOR_GPUS);
    }

    @Test
    void neverBelowItsMinimumInWholeReplicas() {
        // two single free GPUs on two runners are not one replica of 2 GPUs
        assertWaits(
                snapshot()
                        .pool("a", "cpu", 1)
                        .runner(1, "a", 2, 1)
                        .runner(2, "a", 2, 1)
                        .job(job(1).pool("a").gpus(4).minGpus(2).replicasOf(2))
                        .decide(),
                1,
                PendingReason.WAITING_FOR_GPUS);
    }
}
