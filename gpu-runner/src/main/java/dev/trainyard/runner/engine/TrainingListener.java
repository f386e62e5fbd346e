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

    /** A listener that ignores everything. */
    static TrainingListener none() {
        return new TrainingListener() {};
    }
}
