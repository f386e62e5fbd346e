package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Walks the queue in order once, placing each job now or recording why it waits (and reserving for it). */
final class QueuePass {
    private final ClusterIndex index;
    private final HeadOfLine headOfLine;
    final List<Placement> placements = new ArrayList<>();
    final List<Pending> pending = new ArrayList<>();

    QueuePass(ClusterIndex index, List<Preemption> preemptions) {
        this.index = index;
        this.headOfLine = new HeadOfLine(index, preemptions);
    }

    void run(FairShareQueue queue) {
        for (QueuedJob job = queue.next(); job != null; job = queue.next()) {
            Pending waiting = consider(job);
            if (waiting != null) {
                pending.add(waiting);
                if (waiting.wantsGpus()) {
                    waiting.feasible.forEach(pool -> pool.demand = true);
                }
            }
        }
    }

    /** Places the job, or returns why it waits. */
    private Pending consider(QueuedJob job) {
        List<PoolState> matching = index.matching(job);
        Pending unschedulable = checkRequest(job, matching);
        if (unschedulable != null) {
            return unschedulable;
        }
        List<JobCheck.Option> options = JobCheck.options(job, matching, index.accounts);
        if (options.isEmpty()) {
            return Pending.simple(job, PendingReason.NO_POOL_FITS, JobCheck.tooBigMessage(job, matching), matching);
        }
        List<JobCheck.Option> affordable = new ArrayList<>(options.size());
        List<PoolState> feasible = new ArrayList<>(options.size());
        for (JobCheck.Option option : options) {
            if (option.affordable()) {
                affordable.add(option);
                feasible.add(option.pool());
            }
        }
        if (affordable.isEmpty()) {
            String message = JobCheck.budgetMessage(job, options.get(0), index.accounts);
            return Pending.simple(job, PendingReason.BUDGET_EXHAUSTED, message, matching);
        }
        if (placements.size() >= index.policy.maxPlacementsPerCycle()) {
            return new Pending(
                    job,
                    PendingReason.PLACEMENT_LIMIT,
                    "this cycle's placement limit (" + index.policy.maxPlacementsPerCycle() + ") was reached",
                    matching,
                    feasible,
                    null,
                    null);
        }
        return placeOrBlock(job, matching, affordable, feasible);
    }

    /** Why the request cannot run anywhere whatever the cluster's state, or null. */
    private Pending checkRequest(QueuedJob job, List<PoolState> matching) {
        String invalid = JobCheck.invalidReason(job, index.accounts);
        if (invalid != null) {
            return Pending.simple(job, PendingReason.INVALID_JOB, invalid, matching);
        }
        if (matching.isEmpty()) {
            return Pending.simple(job, PendingReason.NO_POOL_FITS, JobCheck.noMatchMessage(job), matching);
        }
        BigDecimal limitLeft = CostModel.remainingLimit(job.maxCostUsd(), job.accruedCostUsd());
        if (limitLeft != null && limitLeft.signum() == 0) {
            String message = "earlier attempts already used the job's maxCostUsd of " + job.maxCostUsd() + " USD";
            return Pending.simple(job, PendingReason.BUDGET_EXHAUSTED, message, matching);
        }
        return null;
    }

    private Pending placeOrBlock(
            QueuedJob job, List<PoolState> matching, List<JobCheck.Option> options, List<PoolState> feasible) {
        Reservation heldBy = null;
        for (JobCheck.Option option : options) {
            Reservation reservation = option.pool().reservation;
            Gang gang = tryNow(job, option);
            if (gang != null) {
                place(job, option.pool(), gang, limitsFor(job, reservation));
                return null;
            }
            if (heldBy == null && reservation != null && fitsIgnoringReservation(job, option)) {
                heldBy = reservation;
            }
        }
        return headOfLine.block(job, matching, feasible, heldBy);
    }

    /** A gang that fits now without delaying the pool's reservation, or null. */
    private Gang tryNow(QueuedJob job, JobCheck.Option option) {
        PoolState pool = option.pool();
        if (pool.reservation != null && !index.policy.backfill()) {
            return null;
        }
        return placeNow(job, option, new Headroom(pool, limitsFor(job, pool.reservation)));
    }

    /** A pipeline cut between stages is laid out stage by stage; any other gang by GPU counts. */
    private static Gang placeNow(QueuedJob job, JobCheck.Option option, Headroom room) {
        if (job.pipeline() != null) {
            int most = Math.min(
                    job.pipeline().replicas(),
                    option.upperGpus() / job.pipeline().replicaGpus());
            return PipelineAllocator.placeMost(option.pool(), room::at, job.fewestPipeline(), most);
        }
        return GangAllocator.placeNow(
                option.pool(), room, option.upperGpus(), job.minGpus(), job.multiNode(), job.replicaGpus());
    }

    /** Only a job still running when the reservation starts must keep off the GPUs held for it. */
    private Reservation limitsFor(QueuedJob job, Reservation reservation) {
        if (reservation == null) {
            return null;
        }
        Instant end = index.now.plusSeconds(job.maxRuntimeSeconds());
        return end.isAfter(reservation.start) ? reservation : null;
    }

    private boolean fitsIgnoringReservation(QueuedJob job, JobCheck.Option option) {
        return placeNow(job, option, new Headroom(option.pool(), null)) != null;
    }

    private void place(QueuedJob job, PoolState pool, Gang gang, Reservation limits) {
        List<NodeAssignment> nodes = new ArrayList<>(gang.positions().length);
        Instant end = index.now.plusSeconds(job.maxRuntimeSeconds());
        for (int rank = 0; rank < gang.positions().length; rank++) {
            int pos = gang.positions()[rank];
            nodes.add(new NodeAssignment(pool.runnerIds[pos], gang.gpus()[rank], rank));
            pool.take(pos, gang.gpus()[rank]);
            pool.placedReleases.add(new PoolState.Release(end, pos, gang.gpus()[rank], false));
        }
        if (limits != null) {
            limits.consume(gang);
        }
        index.invalidate(pool);
        BigDecimal worstCase = CostModel.worstCase(job, gang.total(), pool.pool);
        index.accounts.commit(job.projectId(), worstCase);
        index.accounts.grant(job.projectId(), gang.total() * (job.maxRuntimeSeconds() / 3600.0));
        placements.add(new Placement(job.id(), job.version(), pool.pool.id(), nodes, gang.total(), worstCase));
    }
}
