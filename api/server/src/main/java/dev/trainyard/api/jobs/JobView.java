package dev.trainyard.api.jobs;

import dev.trainyard.spec.JobSpec;
import java.math.BigDecimal;
import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A job as the API shows it. */
@Schema(name = "Job")
public record JobView(
        @Schema(required = true) long id,
        @Schema(required = true) String name,
        @Schema(required = true) String project,

        @Schema(
                required = true,
                description = "QUEUED, SCHEDULED, RUNNING, PREEMPTED, SUCCEEDED, FAILED, CANCELLED or BUDGET_EXHAUSTED")
        String state,

        @Schema(
                description = "Why the job is in its state (for example the failure or stop reason: TRAINING_FAILED,"
                        + " TRAINING_DIVERGED, RUNTIME_LIMIT_REACHED)")
        String stateReason,

        @Schema(description = "Where the loss diverged, on a job that ended FAILED with TRAINING_DIVERGED")
        DivergenceView divergence,

        @Schema(required = true) String priority,
        String pool,
        String gpuType,
        @Schema(required = true) int gpus,
        @Schema(required = true) int minGpus,
        @Schema(description = "Present while the job waits") Pending pending,
        @Schema(required = true) boolean cancelRequested,
        @Schema(required = true) Progress progress,
        @Schema(required = true) Cost cost,
        @Schema(required = true) int restarts,
        @Schema(required = true) int maxRestarts,
        @Schema(required = true) Instant submittedAt,
        Instant startedAt,
        Instant finishedAt,
        @Schema(required = true) JobSpec spec) {

    /** Why a waiting job is not running, and where it stands. */
    @Schema(name = "PendingInfo")
    public record Pending(
            @Schema(description = "WAITING_FOR_GPUS, NO_POOL_FITS, BUDGET_EXHAUSTED, BEHIND_HIGHER_PRIORITY, ...")
            String reason,

            String message,

            @Schema(description = "1-based position in its pool's queue")
            Integer queuePosition,

            Instant estimatedStartAt) {}

    /** Training progress. */
    @Schema(name = "Progress")
    public record Progress(
            @Schema(required = true) long step,
            @Schema(required = true) long totalSteps) {}

    /** Cost so far against the job's limit, in USD. */
    @Schema(name = "Cost")
    public record Cost(@Schema(required = true) BigDecimal accruedUsd, BigDecimal maxUsd) {}
}
