package dev.trainyard.runner.engine.torch;

/**
 * What one stage thread measured in one step: when its pipeline work started and ended, wall time computing,
 * CPU time of the thread, and (last stage) the loss.
 */
record StageReport(long startNanos, long endNanos, long busyNanos, long cpuNanos, double loss) {}
