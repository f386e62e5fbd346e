package dev.trainyard.runner.engine;

/**
 * The loss diverged (see {@link DivergenceWatch}): the step and its loss are data, for the platform to store and
 * show; the message says the same for people.
 */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;
    private final double loss;

    public TrainingDivergedException(long step, double loss, String message) {
        super(message);
        this.step = step;
        this.loss = loss;
    }

    /** The step whose loss diverged. */
    public long step() {
        return step;
    }

    /** That step's loss: NaN, infinite, or a finite value above the divergence threshold. */
    public double loss() {
        return loss;
    }
}
