package dev.trainyard.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Handles a job that cannot start now. The first such job of a pool becomes the pool's head of line: it waits for
 * GPUs already coming back, or preempts strictly lower-priority work, and holds a reservation that later jobs may
 * only backfill around. Later blocked jobs of that pool just wait.
 */
final class HeadOfLine {
    private final ClusterIndex index;
    private final List<Preemption> preemptions;
    private final VictimPlanner victims;

    HeadOfLine(ClusterIndex index, List<Preemption> preemptions) {
        this.index = index;
        this.preemptions = preemptions;
        this.victims = new VictimPlanner(index.now, index.policy);
    }

    /** Why the job waits; {@code heldBy} is a reservation that kept it off GPUs it would otherwise fit. */
    Pending block(QueuedJob job, List<PoolState> matching, List<PoolState> feasible, Reservation heldBy) {
        List<PoolState> open = new ArrayList<>(feasible.size());
        for (PoolState pool : feasible) {
            if (pool.reservation == null) {
                open.add(pool);
            }
        }
        if (!open.isEmpty()) {
            return lead(job, matching, feasible, open);
        }
        if (heldBy != null) {
            boolean higher = heldBy.holderPriority.outranks(job.priority());
            PendingReason reason = higher ? PendingReason.BEHIND_HIGHER_PRIORITY : PendingReason.BEHIND_EARLIER_JOB;
            String message = "the GPUs it could use are held for job " + heldBy.holderJobId + " ("
                    + heldBy.holderPriority.spelling() + " priority), which starts first";
            return new Pending(job, reason, message, matching, feasible, heldBy.start, heldBy.holderJobId);
        }
        PoolState first = feasible.get(0);
        String message = "needs " + job.minGpus() + " GPUs" + (job.multiNode() ? "" : " on one runner") + "; pool "
                + first.pool.name() + " has " + describeFree(first);
        return new Pending(job, PendingReason.WAITING_FOR_GPUS, message, matching, feasible, null, null);
    }

    /** The job heads the line of at least one pool: wait for GPUs coming back soon, preempt, or reserve. */
    private Pending lead(QueuedJob job, List<PoolState> matching, List<PoolState> feasible, List<PoolState> open) {
        Instant graceEnd = index.now.plus(index.policy.preemptionGrace());
        PoolState bestPool = null;
        ReleaseTimeline.Projection best = null;
        for (PoolState pool : open) {
            ReleaseTimeline.Projection projection = index.timeline(pool).earliestFit(job);
            if (projection != null && (best == null || projection.at().isBefore(best.at()))) {
                best = projection;
                bestPool = pool;
            }
        }
        if (best != null && !best.at().isAfter(graceEnd)) {
            return reserve(job, matching, feasible, bestPool, best, false);
        }
        if (index.policy.preemption()) {
            for (PoolState pool : open) {
                Pending preempted = preemptFor(job, matching, feasible, pool, graceEnd);
                if (preempted != null) {
                    return preempted;
                }
            }
        }
        if (best != null) {
            return reserve(job, matching, feasible, bestPool, best, false);
        }
        String message = "needs " + job.minGpus() + " GPUs that do not come free even when every running attempt"
                + " in its pools ends (pool " + open.get(0).pool.name() + ")";
        return new Pending(job, PendingReason.WAITING_FOR_GPUS, message, matching, feasible, null, null);
    }

    private Pending preemptFor(
            QueuedJob job, List<PoolState> matching, List<PoolState> feasible, PoolState pool, Instant graceEnd) {
        int[] baseline = index.timeline(pool).projectedAt(graceEnd);
        List<RunningAttempt> chosen = victims.choose(pool, job, baseline, index.stopping);
        if (chosen.isEmpty()) {
            return null;
        }
        for (RunningAttempt victim : chosen) {
            preemptions.add(
                    new Preemption(victim.attemptId(), victim.jobId(), PreemptionReason.HIGHER_PRIORITY_JOB, job.id()));
            index.stopping.add(victim.attemptId());
        }
        index.invalidate(pool);
        ReleaseTimeline.Projection projection = index.timeline(pool).earliestFit(job);
        if (projection == null) {
            // Only an inconsistent snapshot (more GPUs in use than exist) gets here; wait without a reservation.
            return new Pending(
                    job,
                    PendingReason.WAITING_FOR_PREEMPTION,
                    "preempting lower-priority work in pool " + pool.pool.name(),
                    matching,
                    feasible,
                    null,
                    null);
        }
        return reserve(job, matching, feasible, pool, projection, true);
    }

    private Pending reserve(
            QueuedJob job,
            List<PoolState> matching,
            List<PoolState> feasible,
            PoolState pool,
            ReleaseTimeline.Projection projection,
            boolean preempted) {
        Gang gang = projection.gang();
        pool.reservation = new Reservation(job.id(), job.priority(), projection.at(), gang, projection.free());
        boolean waitsOnStops = preempted;
        for (int pos : gang.positions()) {
            waitsOnStops |= projection.stoppingReleased()[pos];
        }
        if (waitsOnStops) {
            String message = (preempted ? "preempting lower-priority work" : "waiting for attempts that are stopping")
                    + " in pool " + pool.pool.name() + " to free " + job.minGpus() + " GPUs";
            return new Pending(
                    job, PendingReason.WAITING_FOR_PREEMPTION, message, matching, feasible, projection.at(), null);
        }
        String message = "first in line for " + job.minGpus() + " GPUs in pool " + pool.pool.name()
                + "; they come free as running attempts reach their runtime limit";
        return new Pending(job, PendingReason.WAITING_FOR_GPUS, message, matching, feasible, projection.at(), null);
    }

    private static String describeFree(PoolState pool) {
        return pool.index.totalFree() + " free GPUs, at most " + pool.index.largestFree() + " on one runner";
    }
}
