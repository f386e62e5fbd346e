package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertPlaced;
import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A replica's pipeline that no single runner holds is cut between stages over the fewest runners, in stage order,
 * never putting a stage on a runner whose devices cannot hold it; when no layout fits, the job says why.
 */
class PipelinePlacementTest {
    static final long MIB = 1024 * 1024;

    /** The nodes of the job's placement as [runner id, GPUs (stages), rank]. */
    static List<List<Long>> nodes(Scenario scenario, long jobId) {
        return assertPlaced(scenario.decide(), jobId).nodes().stream()
                .map(n -> List.of(n.runnerId(), (long) n.gpus(), (long) n.rank()))
                .toList();
    }

    @Test
    void aPipelineThatFitsOneRunnerStaysOnItsTightestRunner() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 4)
                .runner(2, "a", 2)
                .runner(3, "a", 1)
                .job(job(1).pool("a").pipelineOf(MIB, MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(2L, 2L, 0L));
    }

    @Test
    void twoStagesAreCutOverTwoRunnersOfOneDeviceEach() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1)
                .job(job(1).pool("a").pipelineOf(MIB, MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(1L, 1L, 0L), List.of(2L, 1L, 1L));
    }

    @Test
    void threeStagesOverTwoRunnersKeepTheNeighbouringPairTogether() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1)
                .runner(3, "a", 2)
                .job(job(1).pool("a").pipelineOf(MIB, MIB, MIB));

        assertThat(nodes(scenario, 1))
                .as("stages 0-1 on the two-device runner, stage 2 on the first one-device runner: two runners")
                .containsExactly(List.of(3L, 2L, 0L), List.of(1L, 1L, 1L));
    }

    @Test
    void memoryKeepsAStageOffARunnerWhoseDevicesCannotHoldIt() {
        // runner 1 has room for two stages by count but its shared 3 MiB holds only the 1 MiB stage; stage 0 needs 4
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 2, 3 * MIB, true)
                .runnerWithMemory(2, "a", 1, 8 * MIB, false)
                .job(job(1).pool("a").pipelineOf(4 * MIB, MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(2L, 1L, 0L), List.of(1L, 1L, 1L));
    }

    @Test
    void sharedMemoryMustHoldTheStagesTogether() {
        // runner 1's two CPU devices share 3 MiB: 2 + 2 MiB does not fit there, so the pipeline is cut after stage
        // 0, and the tighter runner (one device) takes the first stage
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 2, 3 * MIB, true)
                .runnerWithMemory(2, "a", 1, 3 * MIB, true)
                .job(job(1).pool("a").pipelineOf(2 * MIB, 2 * MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(2L, 1L, 0L), List.of(1L, 1L, 1L));
    }

    @Test
    void aStageNoRunnerHoldsLeavesTheJobWaitingWithTheStageAndItsNeed() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 2, 3 * MIB, true)
                .runnerWithMemory(2, "a", 1, 2 * MIB, false)
                .job(job(1).pool("a").pipelineOf(MIB, 5 * MIB));

        WaitingJob waiting = assertWaits(scenario.decide(), 1, PendingReason.NO_POOL_FITS);
        assertThat(waiting.message())
                .isEqualTo("pipeline stage 1 needs 5.0 MiB of device memory; no schedulable runner of pool a has a"
                        + " device that holds it (the largest has 3.0 MiB)");
    }

    @Test
    void tooFewGpusInThePoolLeavesTheJobWaitingWithTheCount() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1)
                .job(job(1).pool("a").pipelineOf(MIB, MIB, MIB));

        WaitingJob waiting = assertWaits(scenario.decide(), 1, PendingReason.NO_POOL_FITS);
        assertThat(waiting.message())
                .isEqualTo("its 3 pipeline stages need 3 GPUs, one each; pool a has 2 on schedulable runners");
    }

    @Test
    void aPipelineThatFitsTheEmptyPoolButNotTheFreeGpusWaitsForGpus() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1, 0)
                .runner(2, "a", 1)
                .job(job(1).pool("a").pipelineOf(MIB, MIB));

        assertWaits(scenario.decide(), 1, PendingReason.WAITING_FOR_GPUS);
    }
}
