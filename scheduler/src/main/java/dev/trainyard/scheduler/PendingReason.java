package dev.trainyard.scheduler;

/** Why a queued job was not placed: stored with the job and shown to its owner. */
public enum PendingReason {
    /** Its pool has too few free GPUs now; it starts when running attempts end. */
    WAITING_FOR_GPUS,
    /** No pool of that name or GPU type exists, or no schedulable runner set could ever hold it. */
    NO_POOL_FITS,
    /** Its worst-case cost exceeds what is left of its project's budget, or its own maxCostUsd is used up. */
    BUDGET_EXHAUSTED,
    /** GPUs it could use are held for a higher-priority job that is waiting. */
    BEHIND_HIGHER_PRIORITY,
    /** GPUs it could use are held for a job of the same priority that is ahead in fair-share and age order. */
    BEHIND_EARLIER_JOB,
    /** Attempts were asked to checkpoint and stop for it; it starts when they have. */
    WAITING_FOR_PREEMPTION,
    /** The cycle's placement cap was reached; it is considered again next cycle. */
    PLACEMENT_LIMIT,
    /** The request cannot be scheduled as written (bad GPU counts, no pool or type, unknown project). */
    INVALID_JOB
}
