package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.StageTime;

/**
 * What one stage thread measured in one step: when its pipeline work started and ended, wall time computing,
 * CPU time of the thread, (last stage) the loss, the split of its whole step (null for evaluation), the training
 * state its tensors held at the end of backward, and on a CUDA device the allocator's peak of allocated bytes during
 * the step (0 elsewhere).
 */
record StageReport(
        long startNanos,
        long endNanos,
        long busyNanos,
        long cpuNanos,
        double loss,
        StageTime time,
        long stateBytes,
        long peakBytes) {}
