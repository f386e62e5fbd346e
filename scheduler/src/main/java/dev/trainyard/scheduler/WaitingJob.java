package dev.trainyard.scheduler;

import java.time.Instant;

/**
 * Why a queued job was not placed this cycle.
 *
 * @param queuePosition 1-based position among waiting jobs in the queue of its home pool (its named pool, or the
 *     cheapest pool of its GPU type); 0 when no pool matches at all
 * @param estimatedStart earliest start computed from running attempts' deadlines; null when it cannot be computed
 * @param aheadJobId the job it waits for or behind (reservation holder); null when none
 */
public record WaitingJob(
        long jobId, PendingReason reason, String message, int queuePosition, Instant estimatedStart, Long aheadJobId) {}
