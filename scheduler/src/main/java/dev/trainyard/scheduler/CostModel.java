package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;

/**
 * Money arithmetic of the policy: worst-case cost of a placement and the future cost an attempt may still add.
 * Public for the job spec's dry run, which must quote the same worst case the scheduler guards.
 */
public final class CostModel {
    /** Micro-dollars are finer than any price we bill; rounding up keeps every estimate on the safe side. */
    static final int SCALE = 6;

    private static final BigDecimal SECONDS_PER_HOUR = BigDecimal.valueOf(3600);

    private CostModel() {}

    static BigDecimal cost(int gpus, BigDecimal pricePerGpuHour, long seconds) {
        BigDecimal gpuSeconds = BigDecimal.valueOf((long) gpus * Math.max(0, seconds));
        return pricePerGpuHour.multiply(gpuSeconds).divide(SECONDS_PER_HOUR, SCALE, RoundingMode.CEILING);
    }

    /** What is left of a per-job limit, or null when the job has none. */
    static BigDecimal remainingLimit(BigDecimal maxCostUsd, BigDecimal accruedCostUsd) {
        if (maxCostUsd == null) {
            return null;
        }
        return maxCostUsd.subtract(accruedCostUsd).max(BigDecimal.ZERO).setScale(SCALE, RoundingMode.CEILING);
    }

    /** gpus x price x maxRuntime, capped by what is left of the job's own maxCostUsd. */
    static BigDecimal worstCase(QueuedJob job, int gpus, Pool pool) {
        return worstCase(gpus, pool.pricePerGpuHour(), job.maxRuntimeSeconds(), job.maxCostUsd(), job.accruedCostUsd());
    }

    /** gpus x price x maxRuntime, capped by what is left of {@code maxCostUsd} (none when null) after {@code accrued}. */
    public static BigDecimal worstCase(
            int gpus,
            BigDecimal pricePerGpuHour,
            long maxRuntimeSeconds,
            BigDecimal maxCostUsd,
            BigDecimal accruedCostUsd) {
        BigDecimal full = cost(gpus, pricePerGpuHour, maxRuntimeSeconds);
        BigDecimal left = remainingLimit(maxCostUsd, accruedCostUsd);
        return left == null ? full : full.min(left);
    }

    /**
     * The cost a running attempt may still add: its GPUs at the pool's price until its deadline (or only through
     * the grace period when it is already stopping), capped by what is left of its own limit.
     */
    static BigDecimal commitment(
            RunningAttempt attempt, int gpus, Pool pool, Instant now, boolean stopping, Duration grace) {
        long remaining = Math.max(0, Duration.between(now, attempt.deadline()).getSeconds());
        if (stopping) {
            remaining = Math.min(remaining, grace.getSeconds());
        }
        BigDecimal future = cost(gpus, pool.pricePerGpuHour(), remaining);
        BigDecimal left = remainingLimit(attempt.maxCostUsd(), attempt.accruedCostUsd());
        return left == null ? future : future.min(left);
    }

    /** The largest GPU count in [minGpus, gpus] whose worst case fits {@code available}; below minGpus if none. */
    static int maxAffordableGpus(QueuedJob job, Pool pool, BigDecimal available) {
        if (available == null || worstCase(job, job.gpus(), pool).compareTo(available) <= 0) {
            return job.gpus();
        }
        int low = job.minGpus() - 1;
        int high = job.gpus();
        // Worst case grows with the GPU count, so binary search finds the boundary in a few BigDecimal steps.
        while (low < high) {
            int mid = low + (high - low + 1) / 2;
            if (worstCase(job, mid, pool).compareTo(available) <= 0) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        return low;
    }
}
