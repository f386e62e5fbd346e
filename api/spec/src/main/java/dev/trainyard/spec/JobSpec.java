package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A training job as submitted: see docs/design/job-spec.md. Missing optional values get defaults. */
@Schema(name = "JobSpec")
public record JobSpec(
        @Schema(
                required = true,
                description = "1-100 letters, digits, '.', '_' or '-'",
                example = "arith-gpt",
                maxLength = 100,
                pattern = JobSpecValidator.NAME_PATTERN)
        String name,

        @Schema(
                description = "Project name; a member token may leave it out",
                maxLength = 63,
                pattern = Violations.RESOURCE_NAME_PATTERN)
        String project,

        @Schema(
                description = "low, normal (default), high or urgent; higher wins",
                example = "normal",
                enumeration = {"low", "normal", "high", "urgent"})
        String priority,

        @Schema(required = true) Resources resources,
        Limits limits,
        @Schema(required = true) ModelSpec model,
        @Schema(required = true) DataSpec data,
        @Schema(required = true) TrainingSpec training,
        ParallelismSpec parallelism,
        CheckpointPolicy checkpoint) {

    /** Returns a copy with another parallelism section. */
    public JobSpec withParallelism(ParallelismSpec other) {
        return new JobSpec(name, project, priority, resources, limits, model, data, training, other, checkpoint);
    }

    /** Returns a copy with another training section. */
    public JobSpec withTraining(TrainingSpec other) {
        return new JobSpec(name, project, priority, resources, limits, model, data, other, parallelism, checkpoint);
    }

    /** Returns a copy with another checkpoint section. */
    public JobSpec withCheckpoint(CheckpointPolicy other) {
        return new JobSpec(name, project, priority, resources, limits, model, data, training, parallelism, other);
    }
}
