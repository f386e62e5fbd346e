package dev.trainyard.scheduler;

/**
 * A runner as the scheduler sees it: its pool, its GPU count, the GPUs not held by any attempt, and whether it
 * takes new work ({@code schedulable} is true only for ACTIVE runners heard from recently; draining, silent or
 * lost runners get nothing).
 */
public record RunnerNode(long id, long poolId, int totalGpus, int freeGpus, boolean schedulable) {}
