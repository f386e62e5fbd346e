package dev.trainyard.scheduler;

import static dev.trainyard.scheduler.Outcomes.assertWaits;
import static dev.trainyard.scheduler.PipelinePlacementTest.MIB;
import static dev.trainyard.scheduler.PipelinePlacementTest.nodes;
import static dev.trainyard.scheduler.Scenario.NOW;
import static dev.trainyard.scheduler.Scenario.attempt;
import static dev.trainyard.scheduler.Scenario.job;
import static dev.trainyard.scheduler.Scenario.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A pipeline whose stages are tensor-parallel groups of t GPUs is cut only between stages: each group sits on one
 * runner, a rank holding k stages takes k x t GPUs within its devices' memory, and a layout that cannot be placed
 * says so naming the t-GPU groups.
 */
class TensorParallelPipelinePlacementTest {

    @Test
    void twoTwoWayStagesAreCutOneStagePerTwoDeviceRunner() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 2)
                .runner(2, "a", 2)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, MIB, MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(1L, 2L, 0L), List.of(2L, 2L, 1L));
    }

    @Test
    void aRunnerOfFourDevicesHoldsTheWholePipeline() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 2)
                .runner(2, "a", 4)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, MIB, MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(2L, 4L, 0L));
    }

    @Test
    void aThreeDeviceRunnerTakesOneStageNotOneAndAHalf() {
        // by GPU count runner 1 would take stage 0 and half of stage 1; it takes one whole stage, its third GPU idle
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 3)
                .runner(2, "a", 3)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, MIB, MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(1L, 2L, 0L), List.of(2L, 2L, 1L));
    }

    @Test
    void sixDevicesOnTwoThreeDeviceRunnersHoldOnlyTwoOfThreeTwoWayStages() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 3)
                .runner(2, "a", 3)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, MIB, MIB, MIB));

        WaitingJob waiting = assertWaits(scenario.decide(), 1, PendingReason.NO_POOL_FITS);
        assertThat(waiting.message())
                .isEqualTo("the 3 pipeline stages fit no set of schedulable runners of pool a together: a runner holds"
                        + " only whole 2-GPU stage groups (GPUs beyond a multiple of 2 stay unused), and runners whose"
                        + " devices share memory hold fewer");
    }

    @Test
    void sharedMemoryHoldsEveryGpuOfAStageGroup() {
        // each GPU of a stage needs 2 MiB, a 2-way stage 4 MiB of a host's shared memory: runner 1's four CPU devices
        // share 5 MiB, enough for one stage only; runner 2 (tighter) takes stage 0, runner 1 stage 1
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 4, 5 * MIB, true)
                .runnerWithMemory(2, "a", 2, 4 * MIB, true)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, 2 * MIB, 2 * MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(2L, 2L, 0L), List.of(1L, 2L, 1L));
    }

    @Test
    void separateDevicesEachHoldOneGpusShareOfAStage() {
        // separate 3 MiB devices hold a stage whose GPUs need 2 MiB each, two stages on four of them
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 4, 3 * MIB, false)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, 2 * MIB, 2 * MIB));

        assertThat(nodes(scenario, 1)).containsExactly(List.of(1L, 4L, 0L));
    }

    @Test
    void aStageGroupNoRunnerHoldsLeavesTheJobWaitingNamingTheGroup() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runnerWithMemory(1, "a", 2, 3 * MIB, true)
                .runnerWithMemory(2, "a", 2, 3 * MIB, true)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, MIB, 2 * MIB));

        WaitingJob waiting = assertWaits(scenario.decide(), 1, PendingReason.NO_POOL_FITS);
        assertThat(waiting.message())
                .isEqualTo("pipeline stage 1 needs 2.0 MiB on each of the 2 GPUs of its tensor-parallel group; no"
                        + " schedulable runner of pool a has 2 devices that hold it (the largest device has 3.0 MiB)");
    }

    @Test
    void runnersSmallerThanAStageGroupNeverHoldIt() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 1)
                .runner(2, "a", 1)
                .runner(3, "a", 1)
                .runner(4, "a", 1)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, MIB, MIB));

        WaitingJob waiting = assertWaits(scenario.decide(), 1, PendingReason.NO_POOL_FITS);
        assertThat(waiting.message())
                .isEqualTo("its pipeline stages are tensor-parallel groups of 2 GPUs, each on one runner; the largest"
                        + " schedulable runner in pool a has 1");
    }

    @Test
    void tooFewGpusCountsEveryGpuOfEveryGroup() {
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 2)
                .runner(2, "a", 2)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, MIB, MIB, MIB));

        WaitingJob waiting = assertWaits(scenario.decide(), 1, PendingReason.NO_POOL_FITS);
        assertThat(waiting.message())
                .isEqualTo("its 3 pipeline stages need 6 GPUs, a tensor-parallel group of 2 GPUs each, each group on"
                        + " one runner; pool a has 4 on schedulable runners");
    }

    @Test
    void replicasOfTwoWayStagesGoWholeWhereRunnersHoldThemElseEachIsCut() {
        Scenario whole = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 4)
                .runner(2, "a", 4)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 2, MIB, MIB));
        Scenario cut = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 2)
                .runner(2, "a", 2)
                .runner(3, "a", 2)
                .runner(4, "a", 2)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 2, MIB, MIB));

        assertThat(nodes(whole, 1)).containsExactly(List.of(1L, 4L, 0L), List.of(2L, 4L, 1L));
        assertThat(nodes(cut, 1))
                .as("ranks 0-1 are replica 0's stages, ranks 2-3 replica 1's, two GPUs each")
                .containsExactly(List.of(1L, 2L, 0L), List.of(2L, 2L, 1L), List.of(3L, 2L, 2L), List.of(4L, 2L, 3L));
    }

    @Test
    void aPipelineThatFitsTheEmptyPoolButNotTheFreeGpusWaitsForGpus() {
        // runner 1 has one of its two GPUs free: half a stage group is no room for a stage
        Scenario scenario = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 2, 1)
                .runner(2, "a", 2)
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, MIB, MIB));

        assertWaits(scenario.decide(), 1, PendingReason.WAITING_FOR_GPUS);
    }

    @Test
    void theStartEstimateWaitsForWholeStageGroupsNotGpuCounts() {
        // by GPU count 4 are free at one hour (runner 1's first, runner 2's two, runner 3's one), but then only runner
        // 2 holds a 2-GPU stage; runner 1 holds the second when its other GPU frees at two hours
        Decision decision = snapshot()
                .pool("a", "cpu", 1)
                .runner(1, "a", 2, 0)
                .runner(2, "a", 2, 0)
                .runner(3, "a", 1)
                .running(
                        attempt(10).pool("a").on(1, 1).priority(Priority.URGENT).endsIn(Duration.ofMinutes(30)))
                .running(
                        attempt(11).pool("a").on(1, 1).priority(Priority.URGENT).endsIn(Duration.ofHours(2)))
                .running(
                        attempt(12).pool("a").on(2, 2).priority(Priority.URGENT).endsIn(Duration.ofHours(1)))
                .job(job(1).pool("a").tensorParallelPipelineOf(2, 1, MIB, MIB))
                .decide();

        assertThat(assertWaits(decision, 1, PendingReason.WAITING_FOR_GPUS).estimatedStart())
                .isEqualTo(NOW.plus(Duration.ofHours(2)));
    }
}
