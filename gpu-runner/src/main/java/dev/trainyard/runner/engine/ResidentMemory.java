package dev.trainyard.runner.engine;

/**
 * This process's resident memory over a training run: its peak since training started, and how far the second step
 * rose above the level it started from. The first step allocates the gradients, the AdamW moments and the native
 * libraries' own buffers, which then stay; what the second step adds on top and gives back is its activations and
 * temporaries. That rise is the activations' measured peak only where glibc hands freed blocks back to the system:
 * with a fixed {@code MALLOC_MMAP_THRESHOLD_} (for example 65536) every tensor of that size or more is its own
 * mapping, unmapped when freed. With glibc's default (a threshold that grows up to 32 MiB as blocks are freed) the
 * first step's freed activations stay in the heap and the second step reuses them, so the rise reads low.
 */
final class ResidentMemory {

    private long beforeTraining;
    private long peakBeforeStep;
    private long beforeStep;
    private long stepRise = -1;

    /** Before the first step: the peak starts here. */
    void startTraining() {
        PeakMemory.resetPeak();
        beforeTraining = PeakMemory.rssBytes();
    }

    /** Right before the measured (second) step. */
    void startMeasuredStep() {
        peakBeforeStep = PeakMemory.peakRssBytes();
        PeakMemory.resetPeak();
        beforeStep = PeakMemory.rssBytes();
    }

    /** Right after the measured step. */
    void endMeasuredStep() {
        stepRise = Math.max(0, PeakMemory.peakRssBytes() - beforeStep);
    }

    /** Resident bytes before the first step (JVM, libraries, data, the model's weights). */
    long beforeTraining() {
        return beforeTraining;
    }

    /** The peak resident bytes since training started. */
    long peak() {
        return Math.max(peakBeforeStep, PeakMemory.peakRssBytes());
    }

    /** How far the measured step rose above the resident bytes it started from; -1 before it ran. */
    long stepRise() {
        return stepRise;
    }
}
