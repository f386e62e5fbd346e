package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.PipelinePlacementTest.MIB;
import static dev.trainyard.scheduler.PipelinePlacementTest.nodes;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A pipeline of several data-parallel replicas goes on runners holding whole replicas when there are such runners;
 * otherwise every replica is cut the same way over runners of its own, ranks numbered replica by replica as the
 * engine numbers its processes (q = replica · P + pipelineRank), or the job waits saying why.
 */
class PipelineReplicasPlacementTest {

    @Test
    void twoReplicasOfTwoStagesAreCutOverFourOneDeviceRunnersReplicaByReplica() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1)
                .runner(3, "a", 1)
                .runner(4, "a", 1)
                .job(job(1).pool("a").replicatedPipelineOf(2, MIB, MIB));

        assertThat(nodes(scenario, 1))
                .as("ranks 0-1 are replica 0's stages 0 and 1, ranks 2-3 replica 1's")
                .containsExactly(List.of(1L, 1L, 0L), List.of(2L, 1L, 1L), List.of(3L, 1L, 2L), List.of(4L, 1L, 3L));
    }

    @Test
    void everyReplicaIsCutLikeTheFirst() {
        // no runner holds a whole replica of 3 stages; replica 0 takes stages 0-1 on a two-device runner and stage 2
        // on a one-device runner, and replica 1 must be cut at the same place
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 2)
                .runner(3, "a", 1)
                .runner(4, "a", 2)
                .job(job(1).pool("a").replicatedPipelineOf(2, MIB, MIB, MIB));

        assertThat(nodes(scenario, 1))
                .containsExactly(List.of(2L, 2L, 0L), List.of(1L, 1L, 1L), List.of(4L, 2L, 2L), List.of(3L, 1L, 3L));
    }

    @Test
    void whenTheGreedyCutLeavesALaterReplicaNowhereEachRankTakesOneStage() {
        // the two-device runner holds replica 0 whole, and then no runner is left holding replica 1 whole; cut one
        // stage per rank, all four runners take a rank (the two-device runner one of its devices)
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1)
                .runner(3, "a", 1)
                .runner(4, "a", 2)
                .job(job(1).pool("a").replicatedPipelineOf(2, MIB, MIB));

        assertThat(nodes(scenario, 1))
                .containsExactly(List.of(1L, 1L, 0L), List.of(2L, 1L, 1L), List.of(3L, 1L, 2L), List.of(4L, 1L, 3L));
    }

    @Test
    void runnersHoldingWholeReplicasTakeThemUncut() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 2)
                .runner(3, "a", 1)
                .runner(4, "a", 2)
                .job(job(1).pool("a").replicatedPipelineOf(2, MIB, MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(2L, 2L, 0L), List.of(4L, 2L, 1L));
    }

    @Test
    void sharedMemoryThatHoldsOneReplicaOnlyMakesTheOtherGoElsewhere() {
        // runner 1 has GPUs for both replicas, but its shared 3 MiB holds one replica of 2 + 1 MiB only
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 4, 3 * MIB, true)
                .runnerWithMemory(2, "a", 2, 8 * MIB, false)
                .job(job(1).pool("a").replicatedPipelineOf(2, 2 * MIB, MIB));

        assertThat(nodes(scenario, 1))
                .as("one replica on each runner; runner 1 would overflow its memory with two")
                .containsExactly(List.of(1L, 2L, 0L), List.of(2L, 2L, 1L));
    }

    @Test
    void aReplicaThatFindsNoRunnersOfItsOwnLeavesTheJobWaiting() {
        // four GPUs in all, but replica 0's cut uses two of the three runners and one runner cannot run two processes
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 2, 3 * MIB, true)
                .runner(2, "a", 1)
                .runner(3, "a", 1)
                .job(job(1).pool("a").replicatedPipelineOf(2, 2 * MIB, 2 * MIB));

        WaitingJob waiting = assertWaits(scenario.decide(), 1, PendingReason.NO_POOL_FITS);
        assertThat(waiting.message())
                .isEqualTo(
                        "the 2 replicas of 2 pipeline stages fit no set of schedulable runners of pool a: each"
                                + " replica's cut needs runners of its own, all cut the same way, within their devices' memory");
    }

    @Test
    void tooFewGpusForEveryReplicaLeavesTheJobWaitingWithTheCount() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1)
                .runner(3, "a", 1)
                .job(job(1).pool("a").replicatedPipelineOf(2, MIB, MIB));

        WaitingJob waiting = assertWaits(scenario.decide(), 1, PendingReason.NO_POOL_FITS);
        assertThat(waiting.message())
                .isEqualTo("its 2 pipeline stages x 2 replicas need 4 GPUs, one each; pool a has 3 on schedulable"
                        + " runners");
    }
}
