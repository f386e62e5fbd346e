package dev.trainyard.scheduler;

/** The GPUs one running attempt holds on one runner. */
public record Share(long runnerId, int gpus) {}
