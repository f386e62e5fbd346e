package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An attempt that holds GPUs now (SCHEDULED or RUNNING).
 *
 * <p>{@code gpus} is what it was granted, {@code requestedGpus} what its job asked for (more when it started
 * elastic and short). {@code lastCheckpointAt} and {@code maxCostUsd} are nullable. {@code preempting} is true
 * once it has been asked to checkpoint and stop. {@code multiNode} and {@code replicaGpus} are its job's: growth
 * may add whole replicas of {@code replicaGpus} GPUs, on other runners of the pool only when it is multi-node.
 * {@code pipeline} is set (nullable) when its job's replicas may be cut between runners: growth then adds whole cut
 * replicas on runners it does not use yet.
 */
public record RunningAttempt(
        long attemptId,
        long jobId,
        long projectId,
        long poolId,
        Priority priority,
        List<Share> runners,
        int gpus,
        int requestedGpus,
        Instant startedAt,
        Instant lastCheckpointAt,
        long maxRuntimeSeconds,
        BigDecimal maxCostUsd,
        BigDecimal accruedCostUsd,
        boolean preempting,
        boolean multiNode,
        int replicaGpus,
        PipelineStages pipeline) {

    public RunningAttempt {
        Objects.requireNonNull(priority, "priority");
        runners = List.copyOf(runners);
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(accruedCostUsd, "accruedCostUsd");
        if (replicaGpus < 1) {
            throw new IllegalArgumentException("replicaGpus must be at least 1, not " + replicaGpus);
        }
    }

    /** An attempt whose replicas are never cut between stages. */
    public RunningAttempt(
            long attemptId,
            long jobId,
            long projectId,
            long poolId,
            Priority priority,
            List<Share> runners,
            int gpus,
            int requestedGpus,
            Instant startedAt,
            Instant lastCheckpointAt,
            long maxRuntimeSeconds,
            BigDecimal maxCostUsd,
            BigDecimal accruedCostUsd,
            boolean preempting,
            boolean multiNode,
            int replicaGpus) {
        this(
                attemptId,
                jobId,
                projectId,
                poolId,
                priority,
                runners,
                gpus,
                requestedGpus,
                startedAt,
                lastCheckpointAt,
                maxRuntimeSeconds,
                maxCostUsd,
                accruedCostUsd,
                preempting,
                multiNode,
                replicaGpus,
                null);
    }

    /** An attempt of a single-runner job that may grow by any number of GPUs. */
    public RunningAttempt(
            long attemptId,
            long jobId,
            long projectId,
            long poolId,
            Priority priority,
            List<Share> runners,
            int gpus,
            int requestedGpus,
            Instant startedAt,
            Instant lastCheckpointAt,
            long maxRuntimeSeconds,
            BigDecimal maxCostUsd,
            BigDecimal accruedCostUsd,
            boolean preempting) {
        this(
                attemptId,
                jobId,
                projectId,
                poolId,
                priority,
                runners,
                gpus,
                requestedGpus,
                startedAt,
                lastCheckpointAt,
                maxRuntimeSeconds,
                maxCostUsd,
                accruedCostUsd,
                preempting,
                false,
                1,
                null);
    }

    /** When the attempt must end at the latest: start plus its runtime bound. */
    public Instant deadline() {
        // Clamped so that a nonsensical bound in a row cannot overflow Instant and fail the whole cycle.
        return startedAt.plusSeconds(Math.max(0, Math.min(maxRuntimeSeconds, QueuedJob.MAX_RUNTIME_SECONDS)));
    }
}
