package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Grows running elastic attempts that started short, on the runners they already use, with GPUs that no queued
 * job of the pool is waiting for and that the project can afford.
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

    private Resize grow(RunningAttempt attempt, PoolState pool) {
        int missing = attempt.requestedGpus() - attempt.gpus();
        int[] extra = new int[attempt.runners().size()];
        int added = 0;
        for (int i = 0; i < extra.length && added < missing; i++) {
            int pos = pool.positionOf(attempt.runners().get(i).runnerId());
            if (pos >= 0) {
                extra[i] = Math.min(missing - added, pool.free[pos]);
                added += extra[i];
            }
        }
        if (added == 0 || !affordable(attempt, pool, added)) {
            return null;
        }
        List<Share> layout = new ArrayList<>();
        for (int i = 0; i < extra.length; i++) {
            Share share = attempt.runners().get(i);
            layout.add(new Share(share.runnerId(), share.gpus() + extra[i]));
            if (extra[i] > 0) {
                pool.take(pool.positionOf(share.runnerId()), extra[i]);
            }
        }
        return new Resize(attempt.attemptId(), attempt.jobId(), attempt.gpus(), attempt.gpus() + added, layout);
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
