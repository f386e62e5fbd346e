package dev.trainyard.scheduler;

/** Ask a running attempt to checkpoint and stop so that job {@code forJobId} can be placed. */
public record Preemption(long attemptId, long jobId, PreemptionReason reason, long forJobId) {}
