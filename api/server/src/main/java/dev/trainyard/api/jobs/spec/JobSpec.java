package dev.trainyard.api.jobs.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A training job as submitted: see docs/design/job-spec.md. Missing optional values get defaults. */
@Schema(name = "JobSpec")
public record JobSpec(
        @Schema(required = true, description = "1-100 letters, digits, '.', '_' or '-'", example = "arith-gpt")
        String name,
        @Schema(description = "Project name; a member token may leave it out") String project,
        @Schema(description = "low, normal (default), high or urgent; higher wins", example = "normal")
        String priority,
        @Schema(required = true) Resources resources,
        Limits limits,
        @Schema(required = true) ModelSpec model,
        @Schema(required = true) DataSpec data,
        @Schema(required = true) TrainingSpec training,
        ParallelismSpec parallelism,
        CheckpointPolicy checkpoint) {

}
