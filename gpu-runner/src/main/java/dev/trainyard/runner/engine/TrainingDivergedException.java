package dev.trainyard.runner.engine;

/** The loss diverged (see {@link DivergenceWatch}); the message names the step and the loss. */
public final class TrainingDivergedException extends RuntimeException {

    public TrainingDivergedException(String message) {
        super(message);
    }
}
