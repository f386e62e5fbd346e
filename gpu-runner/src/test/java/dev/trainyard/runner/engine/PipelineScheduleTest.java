package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Schedules are valid pipelines: complete, causal across stages, and 1F1B bounds the in-flight count. */
class PipelineScheduleTest {

    @ParameterizedTest
    @CsvSource({"1,1", "1,4", "2,1", "2,4", "3,2", "4,8", "4,3"})
    void everyStageRunsEachMicroBatchOnceForwardThenBackward(int stages, int microBatches) {
        for (PipelineSchedule schedule : PipelineSchedule.values()) {
            for (int s = 0; s < stages; s++) {
                List<PipelineOp> ops = schedule.stageOps(s, stages, microBatches);
                assertThat(ops).hasSize(2 * microBatches);
                Set<Integer> forwarded = new HashSet<>();
                for (PipelineOp op : ops) {
                    if (op.pass() == PipelineOp.Pass.FORWARD) {
                        forwarded.add(op.microBatch());
                    } else {
                        assertThat(forwarded).contains(op.microBatch());
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"2,8", "4,8", "4,2"})
    void oneFOneBKeepsAtMostStagesMinusIndexMicroBatchesInFlight(int stages, int microBatches) {
        for (int s = 0; s < stages; s++) {
            int inFlight = 0;
            int peak = 0;
            for (PipelineOp op : PipelineSchedule.ONE_F_ONE_B.stageOps(s, stages, microBatches)) {
                inFlight += op.pass() == PipelineOp.Pass.FORWARD ? 1 : -1;
                peak = Math.max(peak, inFlight);
            }
            assertThat(peak).isEqualTo(PipelineSchedule.ONE_F_ONE_B.maxInFlight(s, stages, microBatches));
        }
    }

    @ParameterizedTest
    @CsvSource({"gpipe,F0 F1 F2 F3 B0 B1 B2 B3", "1f1b,F0 F1 F2 B0 F3 B1 B2 B3"})
    void firstOfThreeStagesRunsTheExpectedOrder(String name, String expected) {
        List<PipelineOp> ops = PipelineSchedule.named(name).stageOps(0, 3, 4);
        assertThat(String.join(" ", ops.stream().map(PipelineOp::toString).toList()))
                .isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"2,1", "2,4", "3,5", "4,8"})
    void runningTheSchedulesTogetherNeverDeadlocks(int stages, int microBatches) {
        for (PipelineSchedule schedule : PipelineSchedule.values()) {
            assertThat(ScheduleSimulation.completes(schedule, stages, microBatches))
                    .isTrue();
        }
    }

    /** Executes all stages' op lists with their cross-stage dependencies; false if some op can never run. */
    static final class ScheduleSimulation {
        static boolean completes(PipelineSchedule schedule, int stages, int microBatches) {
            int[] next = new int[stages];
            boolean[][] forwardDone = new boolean[stages][microBatches];
            boolean[][] backwardDone = new boolean[stages][microBatches];
            boolean progress = true;
            while (progress) {
                progress = false;
                for (int s = 0; s < stages; s++) {
                    List<PipelineOp> ops = schedule.stageOps(s, stages, microBatches);
                    if (next[s] == ops.size()) {
                        continue;
                    }
                    PipelineOp op = ops.get(next[s]);
                    int mb = op.microBatch();
                    boolean ready = op.pass() == PipelineOp.Pass.FORWARD
                            ? s == 0 || forwardDone[s - 1][mb]
                            : s == stages - 1 || backwardDone[s + 1][mb];
                    if (ready) {
                        (op.pass() == PipelineOp.Pass.FORWARD ? forwardDone : backwardDone)[s][mb] = true;
                        next[s]++;
                        progress = true;
                    }
                }
            }
            for (int s = 0; s < stages; s++) {
                if (next[s] != 2 * microBatches) {
                    return false;
                }
            }
            return true;
        }
    }
}
