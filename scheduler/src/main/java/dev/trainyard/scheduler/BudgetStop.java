package dev.trainyard.scheduler;

/** Stop a running attempt with a final checkpoint; its job ends BUDGET_EXHAUSTED. */
public record BudgetStop(long attemptId, long jobId, BudgetStopReason reason) {}
