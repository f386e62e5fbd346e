package dev.trainyard.api.protocol;

import dev.trainyard.api.jobs.DivergenceView;
import dev.trainyard.api.runners.RunnerView;
import dev.trainyard.spec.DataAccessPolicy;
import dev.trainyard.spec.JobSpec;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Bodies of the runner protocol: what runners send and what they are told. */
public final class RunnerMessages {
    private RunnerMessages() {}

    /** A runner announcing itself; the same name again means the same runner restarted. */
    @Schema(name = "RegisterRunner")
    public record Register(
            @Schema(required = true, description = "Unique, stable name of the runner", example = "node-a")
            String name,

            @Schema(
                    required = true,
                    description = "Host name or address",
                    maxLength = 255,
                    pattern = "^[A-Za-z0-9._:\\[\\]-]{1,255}$")
            String host,

            @Schema(required = true, description = "Pool to join", maxLength = 63)
            String pool,

            @Schema(required = true) List<RunnerView.Device> devices) {}

    /** The platform's answer to a registration. */
    @Schema(name = "RunnerRegistration")
    public record Registration(
            @Schema(required = true) long runnerId,

            @Schema(required = true, description = "Send a heartbeat at least this often")
            long heartbeatIntervalMs,

            @Schema(required = true, description = "Silent this long, the runner is LOST")
            long heartbeatTimeoutMs) {}

    /** A heartbeat; with waitMs the answer is held until work changes or the time is up (long poll). */
    @Schema(name = "Heartbeat")
    public record Heartbeat(
            @Schema(required = true) long runnerId,

            @Schema(
                    description =
                            "Hold the answer up to this long while nothing changes (0-20000 ms; at most a quarter of the heartbeat timeout)")
            Long waitMs,

            @Schema(
                    description = "The runner is stopping on purpose: it takes no new work, each live attempt is"
                            + " asked to checkpoint and stop (RUNNER_STOP) and resumes elsewhere without using a"
                            + " restart, and the runner goes OFFLINE once it holds no live attempt")
            Boolean leaving) {}

    /** The runner's live work as the platform sees it: start what is new, stop what is asked, drop the rest. */
    @Schema(name = "HeartbeatAnswer")
    public record HeartbeatAnswer(
            @Schema(required = true) String runnerState,
            @Schema(required = true) List<Assignment> assignments) {}

    /** One live attempt on this runner. */
    @Schema(name = "Assignment")
    public record Assignment(
            @Schema(required = true) long attemptId,
            @Schema(required = true) long jobId,
            @Schema(required = true) int attemptNumber,

            @Schema(required = true, description = "Send with every call about this attempt")
            String leaseToken,

            @Schema(required = true) JobSpec spec,

            @Schema(required = true, description = "Devices of this runner to use")
            int gpus,

            @Schema(required = true, description = "This runner's rank in the attempt")
            int rank,

            @Schema(required = true, description = "Runners in the attempt")
            int worldSize,

            @Schema(required = true, description = "First of the job's data-parallel replicas this runner trains")
            int firstReplica,

            @Schema(required = true, description = "Data-parallel replicas this runner trains (as one pipeline)")
            int localReplicas,

            @Schema(
                    description = "The pipeline stages this runner holds when one replica's pipeline is cut between"
                            + " runners; absent when each runner holds whole pipelines")
            PipelineShare pipeline,

            @Schema(
                    description = "host:port of rank 0's TCP stores, once rank 0 has published it (attempts over"
                            + " several runners only)")
            String rendezvous,

            @Schema(required = true, description = "STARTING, RUNNING, PREEMPTING or STOPPING")
            String state,

            @Schema(
                    description =
                            "CANCEL, PREEMPT, BUDGET, RUNTIME_LIMIT or RUNNER_STOP when the attempt must checkpoint and stop")
            String stop,

            @Schema(description = "Checkpoint to resume from")
            CheckpointRef resumeFrom,

            @Schema(
                    required = true,
                    description = "What the attempt may read: the policy of this runner's pool, which the runner"
                            + " enforces when it reads data.uri and model.uri")
            DataAccessPolicy dataAccess,

            @Schema(
                    description = "Peak FLOP/s of one device as the pool declares it: the runner reports MFU against"
                            + " it; absent when not declared")
            Double peakFlopsPerDevice) {}

    /**
     * The stages of one replica's pipeline that a runner holds: attempt rank q is pipeline rank q mod processes of
     * replica q div processes, and pipeline rank r holds the stages right after rank r - 1's; rank 0 hosts the control store at the attempt's rendezvous and writes checkpoints.
     */
    @Schema(name = "PipelineShare")
    public record PipelineShare(
            @Schema(
                    required = true,
                    description = "This runner's pipeline rank within its replica (its rank in the attempt is"
                            + " replica x processes + rank)")
            int rank,

            @Schema(required = true, description = "Runners sharing one replica's pipeline stages")
            int processes,

            @Schema(required = true, description = "First stage this runner holds")
            int firstStage,

            @Schema(required = true, description = "Stage after the last one this runner holds (exclusive)")
            int endStage,

            @Schema(required = true, description = "Stages of the whole pipeline")
            int stages,

            @Schema(required = true, description = "The data-parallel replica whose pipeline this runner helps hold")
            int replica,

            @Schema(
                    required = true,
                    description = "The attempt's data-parallel replicas, each cut between runners the same way: fewer"
                            + " than the spec's dataParallel when an elastic job runs short, each then training"
                            + " several replicas' rows so that the global batch stays the spec's")
            int replicas) {}

    /**
     * A complete checkpoint a runner can download: one file, or, sharded, every shard (each downloaded with its
     * number and checked against its own digest).
     */
    @Schema(name = "CheckpointRef")
    public record CheckpointRef(
            @Schema(required = true) long checkpointId,
            @Schema(required = true) long step,
            @Schema(required = true) String sha256,
            @Schema(required = true) long sizeBytes,

            @Schema(required = true, description = "1 for a whole checkpoint")
            int shardCount,

            @Schema(required = true, description = "A sharded checkpoint's shards; empty for a whole one")
            List<dev.trainyard.api.checkpoints.CheckpointShardView> shards) {}

    /** Where rank 0 of a multi-runner attempt listens for the other ranks. */
    @Schema(name = "Rendezvous")
    public record Rendezvous(
            @Schema(required = true) String leaseToken,

            @Schema(
                    required = true,
                    description = "Host name or address the other runners can reach",
                    maxLength = 255,
                    pattern = "^[A-Za-z0-9._:\\[\\]-]{1,255}$")
            String host,

            @Schema(
                    required = true,
                    description = "Port of rank 0's control TCP store, which announces the ports of the other stores")
            Integer port) {}

    /** Carries the attempt's lease token, for fencing. */
    @Schema(name = "AttemptCall")
    public record AttemptCall(@Schema(required = true) String leaseToken) {}

    /** One metric value at one step. */
    @Schema(name = "MetricPoint")
    public record MetricPoint(
            @Schema(required = true) long step,
            @Schema(required = true, maxLength = 64) String name,
            @Schema(required = true) double value) {}

    /** A batch of metric points of one attempt. */
    @Schema(name = "MetricsBatch")
    public record MetricsBatch(
            @Schema(required = true) String leaseToken,
            @Schema(required = true) List<MetricPoint> points) {}

    /** One log line. */
    @Schema(name = "LogLine")
    public record LogLine(
            @Schema(required = true, description = "When the line was written: within a day before now")
            Instant at,

            @Schema(required = true, description = "Stored cut to 4000 characters", maxLength = 65536)
            String line) {}

    /** A batch of log lines of one attempt. */
    @Schema(name = "LogBatch")
    public record LogBatch(
            @Schema(required = true) String leaseToken,
            @Schema(required = true) List<LogLine> lines) {}

    /** How an attempt ended on the runner. */
    @Schema(name = "AttemptEnd")
    public record AttemptEnd(
            @Schema(required = true) String leaseToken,

            @Schema(
                    required = true,
                    description = "SUCCEEDED, FAILED, STOPPED, or LOST when a data-parallel peer"
                            + " runner is gone (the job resumes elsewhere, counting a restart)")
            String outcome,

            @Schema(description = "Error or detail", maxLength = 65536)
            String message,

            @Schema(description = "Last completed step") Long finalStep,

            @Schema(
                    description = "With outcome FAILED: the loss diverged, at this step with this loss; the job ends"
                            + " FAILED with reason TRAINING_DIVERGED and carries both")
            DivergenceView divergence) {}

    /** The answer to a call about an attempt. */
    @Schema(name = "AttemptAck")
    public record AttemptAck(
            @Schema(required = true) long attemptId,
            @Schema(required = true) String state,

            @Schema(
                    description =
                            "CANCEL, PREEMPT, BUDGET, RUNTIME_LIMIT or RUNNER_STOP when the attempt must checkpoint and stop")
            String stop) {}
}
