package dev.trainyard.runner.engine.torch;

/** What one stage thread measured in one step: when its pipeline work started and ended, time computing, loss. */
record StageReport(long startNanos, long endNanos, long busyNanos, double loss) {}
