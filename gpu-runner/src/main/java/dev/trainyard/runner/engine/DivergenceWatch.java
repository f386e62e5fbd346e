package dev.trainyard.runner.engine;

import java.util.Optional;

/**
 * Watches a run's training losses for divergence: a loss that is not finite, or (with a factor above 0) one more
 * than {@code factor} times the lowest loss so far that is also above the first loss it saw. The second condition
 * keeps a minimum near zero, late in an easy task, from making an ordinary batch look like a blow-up.
 */
final class DivergenceWatch {
    private final double factor;
    private double firstLoss = Double.NaN;
    private double lowestLoss = Double.POSITIVE_INFINITY;

    /** @param factor the spec's {@code training.divergenceFactor}; 0 checks only for non-finite losses */
    DivergenceWatch(double factor) {
        this.factor = factor;
    }

    /** Takes the loss of {@code step}; returns the divergence there (to throw), or empty while it has not. */
    Optional<TrainingDivergedException> observe(long step, double loss) {
        if (!Double.isFinite(loss)) {
            return Optional.of(new TrainingDivergedException(
                    step, loss, "training diverged at step " + step + ": the loss is " + loss));
        }
        if (factor > 0 && loss > factor * lowestLoss && loss > firstLoss) {
            return Optional.of(new TrainingDivergedException(
                    step,
                    loss,
                    "training diverged at step " + step + ": the loss " + loss
                            + " is more than training.divergenceFactor " + factor + " times the lowest loss so far, "
                            + lowestLoss + ", and above the first step's, " + firstLoss));
        }
        if (Double.isNaN(firstLoss)) {
            firstLoss = loss;
        }
        lowestLoss = Math.min(lowestLoss, loss);
        return Optional.empty();
    }
}
