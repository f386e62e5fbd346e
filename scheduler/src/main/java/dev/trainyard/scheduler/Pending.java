package dev.trainyard.scheduler;

import java.time.Instant;
import java.util.List;

/** A job left waiting this cycle, before its queue position and estimate are filled in. */
final class Pending {
    final QueuedJob job;
    final PendingReason reason;
    final String message;
    /** Pools the job matches by name or type, in the order they are tried. */
    final List<PoolState> matching;
    /** Matching pools where it could run at all and afford it. */
    final List<PoolState> feasible;

    final Instant estimate;
    final Long aheadJobId;

    Pending(
            QueuedJob job,
            PendingReason reason,
            String message,
            List<PoolState> matching,
            List<PoolState> feasible,
            Instant estimate,
            Long aheadJobId) {
        this.job = job;
        this.reason = reason;
        this.message = message;
        this.matching = matching;
        this.feasible = feasible;
        this.estimate = estimate;
        this.aheadJobId = aheadJobId;
    }

    static Pending simple(QueuedJob job, PendingReason reason, String message, List<PoolState> matching) {
        return new Pending(job, reason, message, matching, List.of(), null, null);
    }

    /** Whether the job waits for GPUs of its pools (as opposed to being unable to run there at all). */
    boolean wantsGpus() {
        return reason != PendingReason.NO_POOL_FITS
                && reason != PendingReason.BUDGET_EXHAUSTED
                && reason != PendingReason.INVALID_JOB;
    }
}
