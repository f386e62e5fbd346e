package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Grows running elastic attempts that started short, with GPUs that no queued job of the pool is waiting for and
 * that the project can afford: on the runners they already use, and for multi-node jobs on other runners of the
 * pool, always by whole data-parallel replicas; a job whose replicas are cut between runners by whole cut replicas
 * on runners it does not use yet.
 */
final class ElasticGrowth {
    private final ClusterIndex index;

    ElasticGrowth(ClusterIndex index) {
        this.index = index;
    }

    List<Resize> plan() {
        List<Resize> resizes = new ArrayList<>();
        if (!index.policy.elasticGrowth()) {
            return resizes;
        }
        List<RunningAttempt> candidates = new ArrayList<>(index.attempts);
        candidates.sort(
                Comparator.comparingInt((RunningAttempt a) -> -a.priority().rank())
                        .thenComparing(RunningAttempt::startedAt)
                        .thenComparingLong(RunningAttempt::attemptId));
        for (RunningAttempt attempt : candidates) {
            PoolState pool = index.pool(attempt.poolId());
            if (attempt.gpus() < attempt.requestedGpus()
                    && pool != null
                    && !pool.demand
                    && !index.stopping.contains(attempt.attemptId())) {
                Resize resize = grow(attempt, pool);
                if (resize != null) {
                    resizes.add(resize);
                }
            }
        }
        return resizes;
    }

    /**
     * The attempt's layout grown by whole replicas: first on the runners it already uses, then, for a multi-node
     * job, on other runners of the pool with the most free GPUs first (ties by position, that is runner id).
     */
    private Resize grow(RunningAttempt attempt, PoolState pool) {
        if (attempt.pipeline() != null) {
            return growCut(attempt, pool);
        }
        int unit = attempt.replicaGpus();
        int missing = attempt.requestedGpus() - attempt.gpus();
        List<Share> layout = new ArrayList<>();
        int[] extra = new int[pool.free.length];
        int added = 0;
        for (Share share : attempt.runners()) {
            int pos = pool.positionOf(share.runnerId());
            int more = pos >= 0 ? wholeReplicas(Math.min(missing - added, pool.free[pos]), unit) : 0;
            if (pos >= 0) {
                extra[pos] += more;
            }
            added += more;
            layout.add(new Share(share.runnerId(), share.gpus() + more));
        }
        if (attempt.multiNode()) {
            for (int pos : othersByFreeGpus(attempt, pool)) {
                int more = wholeReplicas(Math.min(missing - added, pool.free[pos]), unit);
                if (more > 0) {
                    extra[pos] += more;
                    added += more;
                    layout.add(new Share(pool.runnerIds[pos], more));
                }
            }
        }
        if (added == 0 || !affordable(attempt, pool, added)) {
            return null;
        }
        for (int pos = 0; pos < extra.length; pos++) {
            if (extra[pos] > 0) {
                pool.take(pos, extra[pos]);
            }
        }
        return new Resize(attempt.attemptId(), attempt.jobId(), attempt.gpus(), attempt.gpus() + added, layout);
    }

    /**
     * The attempt grown by the most whole cut replicas that the pool's other runners hold now, within their free GPUs
     * and device memory, each cut as {@link PipelineAllocator} would cut it; the new replicas' ranks follow the
     * attempt's own. The job is placed again from its checkpoint, so the layout only has to prove that they fit.
     */
    private Resize growCut(RunningAttempt attempt, PoolState pool) {
        PipelineStages stages = attempt.pipeline();
        int missing = (attempt.requestedGpus() - attempt.gpus()) / stages.replicaGpus();
        boolean[] mine = new boolean[pool.free.length];
        for (Share share : attempt.runners()) {
            int pos = pool.positionOf(share.runnerId());
            if (pos >= 0) {
                mine[pos] = true;
            }
        }
        for (int more = missing; more >= 1; more--) {
            Gang gang = PipelineAllocator.place(pool, pos -> mine[pos] ? 0 : pool.free[pos], stages.withReplicas(more));
            if (gang != null && affordable(attempt, pool, gang.total())) {
                List<Share> layout = new ArrayList<>(attempt.runners());
                for (int rank = 0; rank < gang.positions().length; rank++) {
                    pool.take(gang.positions()[rank], gang.gpus()[rank]);
                    layout.add(new Share(pool.runnerIds[gang.positions()[rank]], gang.gpus()[rank]));
                }
                return new Resize(
                        attempt.attemptId(), attempt.jobId(), attempt.gpus(), attempt.gpus() + gang.total(), layout);
            }
        }
        return null;
    }

    /** Positions of the pool's runners the attempt does not use yet that have a free GPU, most free first. */
    private static List<Integer> othersByFreeGpus(RunningAttempt attempt, PoolState pool) {
        List<Integer> used = attempt.runners().stream()
                .map(s -> pool.positionOf(s.runnerId()))
                .toList();
        List<Integer> others = new ArrayList<>();
        for (int pos = 0; pos < pool.free.length; pos++) {
            if (pool.free[pos] > 0 && !used.contains(pos)) {
                others.add(pos);
            }
        }
        others.sort(Comparator.comparingInt((Integer pos) -> -pool.free[pos]).thenComparingInt(pos -> pos));
        return others;
    }

    /** The most GPUs in {@code gpus} that make whole replicas of {@code unit}. */
    private static int wholeReplicas(int gpus, int unit) {
        return Math.max(0, gpus - gpus % unit);
    }

    /** The growth's extra future cost must fit what is left of the project's budget; it is then committed. */
    private boolean affordable(RunningAttempt attempt, PoolState pool, int added) {
        BigDecimal before = CostModel.commitment(
                attempt, attempt.gpus(), pool.pool, index.now, false, index.policy.preemptionGrace());
        BigDecimal after = CostModel.commitment(
                attempt, attempt.gpus() + added, pool.pool, index.now, false, index.policy.preemptionGrace());
        BigDecimal delta = after.subtract(before);
        BigDecimal left = index.accounts.budgetLeft(attempt.projectId());
        if (left != null && delta.compareTo(left) > 0) {
            return false;
        }
        index.accounts.commit(attempt.projectId(), delta);
        return true;
    }
}
