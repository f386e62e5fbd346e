package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/** The static part of considering a job: is the request valid, which pools match, which it can fit and afford. */
final class JobCheck {
    private JobCheck() {}

    /** Why the request cannot be scheduled as written, or null when it is well formed. */
    static String invalidReason(QueuedJob job, ProjectAccounts accounts) {
        if (job.gpus() < 1) {
            return "gpus must be at least 1, got " + job.gpus();
        }
        if (job.minGpus() < 1 || job.minGpus() > job.gpus()) {
            return "minGpus must be between 1 and gpus (" + job.gpus() + "), got " + job.minGpus();
        }
        if (job.maxRuntimeSeconds() <= 0 || job.maxRuntimeSeconds() > QueuedJob.MAX_RUNTIME_SECONDS) {
            return "maxRuntimeSeconds must be between 1 and " + QueuedJob.MAX_RUNTIME_SECONDS;
        }
        if (job.poolId() == null && job.gpuType() == null) {
            return "names neither a pool nor a GPU type";
        }
        if (!accounts.knows(job.projectId())) {
            return "unknown project " + job.projectId();
        }
        return null;
    }

    static String noMatchMessage(QueuedJob job) {
        if (job.poolId() != null && job.gpuType() != null) {
            return "no pool with id " + job.poolId() + " and GPU type " + job.gpuType();
        }
        return job.poolId() != null ? "no pool with id " + job.poolId() : "no pool of GPU type " + job.gpuType();
    }

    static String tooBigMessage(QueuedJob job, List<PoolState> matching) {
        PoolState first = matching.get(0);
        if (job.pipeline() != null) {
            return PipelineAllocator.whyNot(first, job.fewestPipeline());
        }
        return job.multiNode()
                ? "needs " + job.minGpus() + " GPUs; pool " + first.pool.name() + " has " + first.totalCapacity
                        + " on schedulable runners"
                : "needs " + job.minGpus() + " GPUs on one runner; the largest schedulable runner in pool "
                        + first.pool.name() + " has " + first.largestRunner;
    }

    /** Matching pools where the job could ever fit and whose worst case its project can afford. */
    static List<Option> options(QueuedJob job, List<PoolState> matching, ProjectAccounts accounts) {
        List<Option> options = new ArrayList<>();
        BigDecimal budgetLeft = accounts.budgetLeft(job.projectId());
        for (PoolState pool : matching) {
            if (couldEverHold(pool, job)) {
                int affordable = CostModel.maxAffordableGpus(job, pool.pool, budgetLeft);
                options.add(new Option(pool, Math.min(affordable, job.gpus()), affordable >= job.minGpus()));
            }
        }
        return options;
    }

    private static boolean couldEverHold(PoolState pool, QueuedJob job) {
        return job.pipeline() != null
                ? PipelineAllocator.couldEverHold(pool, job.fewestPipeline())
                : pool.couldEverHold(job.minGpus(), job.multiNode(), job.replicaGpus());
    }

    static String budgetMessage(QueuedJob job, Option option, ProjectAccounts accounts) {
        BigDecimal worst = CostModel.worstCase(job, job.minGpus(), option.pool().pool);
        // Cents are what people read; rounding each side against the job keeps the message consistent.
        return "worst-case cost " + worst.setScale(2, RoundingMode.CEILING).toPlainString() + " USD for "
                + job.minGpus() + " GPUs in pool " + option.pool().pool.name()
                + " exceeds what is left of the project's budget after running work ("
                + accounts.budgetLeft(job.projectId())
                        .setScale(2, RoundingMode.FLOOR)
                        .toPlainString() + " USD)";
    }

    /** A pool the job could run in, the most GPUs it may take there, and whether it can afford its minimum. */
    record Option(PoolState pool, int upperGpus, boolean affordable) {}
}
