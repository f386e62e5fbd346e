package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Objects;

/**
 * A job in state QUEUED with the parts of its spec the scheduler reads.
 *
 * <p>{@code poolId} and {@code gpuType} are nullable but at least one must be set; when both are set a pool must
 * match both. {@code maxCostUsd} is nullable (no per-job limit). {@code accruedCostUsd} is what earlier attempts
 * of this job already cost. {@code version} is echoed in the placement for the guarded write.
 *
 * <p>{@code replicaGpus} is the size of one data-parallel replica of a multi-node job: a pipeline runs within one
 * runner, so each runner of a multi-node gang gets a whole number of replicas. 1 puts no constraint on the split.
 *
 * <p>{@code pipeline} is set for a multi-node job whose replicas may be cut between their pipeline stages (then
 * {@code gpus} is all replicas' GPUs): the gang is laid out stage by stage, within the memory the runners report,
 * in as many replicas as fit between {@code minGpus}' worth and {@code gpus}' worth.
 */
public record QueuedJob(
        long id,
        long projectId,
        Long poolId,
        String gpuType,
        Priority priority,
        int gpus,
        int minGpus,
        boolean multiNode,
        long maxRuntimeSeconds,
        BigDecimal maxCostUsd,
        BigDecimal accruedCostUsd,
        Instant submittedAt,
        long version,
        int replicaGpus,
        PipelineStages pipeline) {

    /**
     * The cut pipeline at the job's elastic minimum: its minGpus in whole cut replicas (all of them when not
     * elastic); null when the job is not cut.
     */
    public PipelineStages fewestPipeline() {
        return pipeline == null ? null : pipeline.withReplicas(Math.max(1, minGpus / pipeline.replicaGpus()));
    }

    /** Ten years: any longer runtime bound is treated as a mistake rather than a plan. */
    public static final long MAX_RUNTIME_SECONDS = 10L * 366 * 24 * 3600;

    public QueuedJob {
        Objects.requireNonNull(priority, "priority");
        Objects.requireNonNull(accruedCostUsd, "accruedCostUsd");
        Objects.requireNonNull(submittedAt, "submittedAt");
        if (replicaGpus < 1) {
            throw new IllegalArgumentException("replicaGpus must be at least 1, not " + replicaGpus);
        }
    }

    /** A job whose replicas are never cut between stages. */
    public QueuedJob(
            long id,
            long projectId,
            Long poolId,
            String gpuType,
            Priority priority,
            int gpus,
            int minGpus,
            boolean multiNode,
            long maxRuntimeSeconds,
            BigDecimal maxCostUsd,
            BigDecimal accruedCostUsd,
            Instant submittedAt,
            long version,
            int replicaGpus) {
        this(
                id,
                projectId,
                poolId,
                gpuType,
                priority,
                gpus,
                minGpus,
                multiNode,
                maxRuntimeSeconds,
                maxCostUsd,
                accruedCostUsd,
                submittedAt,
                version,
                replicaGpus,
                null);
    }

    /** A job whose multi-node gangs may be split at any GPU (or that is never multi-node). */
    public QueuedJob(
            long id,
            long projectId,
            Long poolId,
            String gpuType,
            Priority priority,
            int gpus,
            int minGpus,
            boolean multiNode,
            long maxRuntimeSeconds,
            BigDecimal maxCostUsd,
            BigDecimal accruedCostUsd,
            Instant submittedAt,
            long version) {
        this(
                id,
                projectId,
                poolId,
                gpuType,
                priority,
                gpus,
                minGpus,
                multiNode,
                maxRuntimeSeconds,
                maxCostUsd,
                accruedCostUsd,
                submittedAt,
                version,
                1,
                null);
    }

    /** True when the job may start with fewer GPUs than it asked for. */
    public boolean elastic() {
        return minGpus < gpus;
    }
}
