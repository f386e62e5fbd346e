package dev.trainyard.runner.engine;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How a run ended: the outcome, the number of completed steps, the last losses, the last checkpoint and the
 * exported weights (present when the run completed).
 */
public record TrainingResult(
        Outcome outcome,
        long finalStep,
        double lastLoss,
        double lastEvalLoss,
        Optional<CheckpointWritten> lastCheckpoint,
        Optional<Path> exportedModel) {

    /** Why the engine returned. */
    public enum Outcome {
        /** All {@code training.steps} ran; final checkpoint and export written. */
        COMPLETED,
        /** The stop signal asked to stop (with or without a checkpoint). */
        STOPPED
    }
}
