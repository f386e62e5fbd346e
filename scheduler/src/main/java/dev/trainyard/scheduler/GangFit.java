package dev.trainyard.scheduler;

/**
 * Whether, and on which runners, a blocked job fits a pool's GPUs counted per runner at some moment: the one test
 * behind a head of line's projected start, the victims preemption picks and the GPUs a reservation holds. A
 * pipeline cut between runners is laid out by {@link PipelineAllocator} within its runners' device memory, exactly
 * as placement lays it out now, so the scheduler never preempts or reserves for a layout it could not place; an
 * elastic one at its minimum replicas, as any elastic gang at its minimum GPUs.
 */
final class GangFit {
    private GangFit() {}

    /** The job's gang over {@code available} GPUs per runner position of {@code pool}, or null when none fits. */
    static Gang on(PoolState pool, QueuedJob job, int[] available) {
        if (job.pipeline() != null) {
            // Counts above a runner's size come only from an inconsistent snapshot; never lay stages out on them.
            return PipelineAllocator.place(
                    pool, pos -> Math.max(0, Math.min(pool.capacity[pos], available[pos])), job.fewestPipeline());
        }
        return GangAllocator.placeOn(available, job.minGpus(), job.multiNode(), job.replicaGpus());
    }
}
