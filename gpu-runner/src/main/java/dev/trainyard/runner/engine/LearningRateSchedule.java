package dev.trainyard.runner.engine;

import dev.trainyard.spec.TrainingSpec;

/** Linear warm-up to the peak rate, then cosine decay to the minimum rate at the last step. */
public record LearningRateSchedule(double peak, double minimum, int warmupSteps, int totalSteps) {

    public static LearningRateSchedule of(TrainingSpec training) {
        return new LearningRateSchedule(
                training.learningRate(),
                training.minLearningRate(),
                training.warmupSteps(),
                Math.toIntExact(training.steps()));
    }

    /** The rate for the step with 0-based index {@code step}. */
    public double rateAt(long step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        long decaySteps = Math.max(1, totalSteps - warmupSteps - 1);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        return minimum + 0.5 * (peak - minimum) * (1 + Math.cos(Math.PI * progress));
    }
}
