package dev.trainyard.spec;

/**
 * Estimated peak bytes of one stage, by kind. Activations cover the schedule's in-flight micro-batches; the
 * optimizer step's extras are what the step holds beyond the training state after the last backward (the
 * gradient exchange's and the update's buffers, and the stage boundaries the step still keeps). The two come one
 * after the other, so the peak is the training state plus the larger of them.
 */
public record MemoryEstimate(
        long parameterBytes, long gradientBytes, long optimizerBytes, long activationBytes, long optimizerStepBytes) {

    /** An estimate without optimizer-step extras. */
    public MemoryEstimate(long parameterBytes, long gradientBytes, long optimizerBytes, long activationBytes) {
        this(parameterBytes, gradientBytes, optimizerBytes, activationBytes, 0);
    }

    /** The training state: parameters, gradients and AdamW moments, held through the whole step. */
    public long stateBytes() {
        return parameterBytes + gradientBytes + optimizerBytes;
    }

    /** The peak: the training state plus the larger of the activations and the optimizer step's extras. */
    public long totalBytes() {
        return stateBytes() + Math.max(activationBytes, optimizerStepBytes);
    }

    @Override
    public String toString() {
        return String.format(
                "%.1f MiB (params %.1f, grads %.1f, AdamW %.1f, activations %.1f, step extras %.1f)",
                mib(totalBytes()),
                mib(parameterBytes),
                mib(gradientBytes),
                mib(optimizerBytes),
                mib(activationBytes),
                mib(optimizerStepBytes));
    }

    public static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }
}
