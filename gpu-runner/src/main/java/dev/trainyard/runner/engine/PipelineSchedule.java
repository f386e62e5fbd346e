package dev.trainyard.runner.engine;

import dev.trainyard.spec.MemoryPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * The order in which one stage runs the forward and backward passes of a step's micro-batches. Both orders
 * run forwards and backwards each in increasing micro-batch order, so neighbouring stages can exchange
 * activations and gradients through plain FIFO channels.
 */
public enum PipelineSchedule {
    /** All forwards, then all backwards: simple, but every micro-batch's activations are alive at once. */
    GPIPE("gpipe"),
    /** Warm-up forwards, then one forward / one backward, then the remaining backwards: at most p - s in flight. */
    ONE_F_ONE_B("1f1b");

    private final String specName;

    PipelineSchedule(String specName) {
        this.specName = specName;
    }

    /** The schedule for a spec value ({@code gpipe} or {@code 1f1b}). */
    public static PipelineSchedule named(String name) {
        for (PipelineSchedule schedule : values()) {
            if (schedule.specName.equalsIgnoreCase(name)) {
                return schedule;
            }
        }
        throw new SpecException("parallelism.schedule must be gpipe or 1f1b, not '" + name + "'");
    }

    public String specName() {
        return specName;
    }

    /** The ops stage {@code stage} of {@code stages} runs in one step, in order. */
    public List<PipelineOp> stageOps(int stage, int stages, int microBatches) {
        List<PipelineOp> ops = new ArrayList<>(2 * microBatches);
        int warmup = this == GPIPE ? microBatches : Math.min(stages - stage - 1, microBatches);
        int nextForward = 0;
        int nextBackward = 0;
        // 1. Warm-up: forwards only, filling the pipeline below this stage.
        while (nextForward < warmup) {
            ops.add(PipelineOp.forward(nextForward++));
        }
        // 2. Steady state: each forward is followed by the oldest pending backward.
        while (nextForward < microBatches) {
            ops.add(PipelineOp.forward(nextForward++));
            ops.add(PipelineOp.backward(nextBackward++));
        }
        // 3. Cool-down: the backwards still owed.
        while (nextBackward < microBatches) {
            ops.add(PipelineOp.backward(nextBackward++));
        }
        return ops;
    }

    /** How many micro-batches' activations stage {@code stage} holds at most at once. */
    public int maxInFlight(int stage, int stages, int microBatches) {
        return MemoryPlan.maxInFlight(specName, stage, stages, microBatches);
    }
}
