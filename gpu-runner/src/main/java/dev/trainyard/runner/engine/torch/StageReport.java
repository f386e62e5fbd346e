package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.StageTime;

/**
 * What one stage thread measured in one step: when its pipeline work started and ended, wall time computing,
 * CPU time of the thread, (last stage) the loss, and the split of its whole step (null for evaluation).
 */
record StageReport(long startNanos, long endNanos, long busyNanos, long cpuNanos, double loss, StageTime time) {}
