package dev.trainyard.api.checkpoints;

import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A complete, verified checkpoint of a job. */
@Schema(name = "Checkpoint")
public record CheckpointView(
        @Schema(required = true) long id,
        @Schema(required = true) long jobId,
        @Schema(required = true) long attemptId,
        @Schema(required = true) long step,
        @Schema(required = true) long sizeBytes,
        @Schema(required = true) String sha256,
        Double evalLoss,
        @Schema(required = true) Instant createdAt) {}
