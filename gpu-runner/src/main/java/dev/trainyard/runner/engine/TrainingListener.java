package dev.trainyard.runner.engine;

/**
 * Receives what the engine reports while it trains; the runner agent forwards it to the API, the command
 * line prints it. Called from the training thread: implementations must not block for long.
 */
public interface TrainingListener {

    /** The plan, once, before the first step. */
    default void onPlan(TrainingPlan plan) {}

    default void onStep(StepMetrics metrics) {}

    default void onEval(EvalMetrics metrics) {}

    default void onCheckpoint(CheckpointWritten checkpoint) {}

    default void onLog(String line) {}

    /**
     * Once, after the first step: each of this process's devices, its memory plan beside the training state
     * measured from its tensors ({@link DeviceMemory}).
     */
    default void onMemory(long step, java.util.List<DeviceMemory> devices) {}

    /**
     * Once, after the second step (none in a run of one step): this process's activations, planned and measured
     * ({@link ProcessMemory}).
     */
    default void onProcessMemory(long step, ProcessMemory memory) {}

    /** A listener that ignores everything. */
    static TrainingListener none() {
        return new TrainingListener() {};
    }
}
