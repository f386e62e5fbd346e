package dev.trainyard.scheduler;

/** The GPUs a placement takes on one runner, with that runner's node rank (0-based) in the gang. */
public record NodeAssignment(long runnerId, int gpus, int rank) {}
