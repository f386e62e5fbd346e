package dev.trainyard.spec;

/** Estimated peak bytes of one stage, by kind; activations cover the schedule's in-flight micro-batches. */
public record MemoryEstimate(long parameterBytes, long gradientBytes, long optimizerBytes, long activationBytes) {

    public long totalBytes() {
        return parameterBytes + gradientBytes + optimizerBytes + activationBytes;
    }

    @Override
    public String toString() {
        return String.format(
                "%.1f MiB (params %.1f, grads %.1f, AdamW %.1f, activations %.1f)",
                mib(totalBytes()), mib(parameterBytes), mib(gradientBytes), mib(optimizerBytes), mib(activationBytes));
    }

    public static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }
}
