package dev.trainyard.api.lifecycle;

/**
 * Where a job's training loss diverged: the step and that step's loss, which may be NaN or infinite. Stored on
 * the job that ended {@link EventReason#TRAINING_DIVERGED} and on the event that ended it.
 */
public record Divergence(long step, double loss) {}
