package dev.trainyard.scheduler;

import java.util.Objects;

/**
 * A runner as the scheduler sees it: its pool, its GPU count, the GPUs not held by any attempt, and whether it
 * takes new work ({@code schedulable} is true only for ACTIVE runners heard from recently; draining, silent or
 * lost runners get nothing). {@code memory} is what its devices hold, which decides where a pipeline's stages
 * may go.
 */
public record RunnerNode(long id, long poolId, int totalGpus, int freeGpus, boolean schedulable, RunnerMemory memory) {

    public RunnerNode {
        Objects.requireNonNull(memory, "memory");
    }

    /** A runner whose device memory is unknown. */
    public RunnerNode(long id, long poolId, int totalGpus, int freeGpus, boolean schedulable) {
        this(id, poolId, totalGpus, freeGpus, schedulable, RunnerMemory.unknown());
    }
}
