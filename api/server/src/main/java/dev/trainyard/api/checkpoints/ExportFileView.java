package dev.trainyard.api.checkpoints;

import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** One verified file of a job's final export. */
@Schema(name = "ExportFile")
public record ExportFileView(
        @Schema(required = true, description = "model.safetensors (the weights), config.json (the model) or model.pt")
        String name,

        @Schema(required = true, description = "The attempt that trained and uploaded it")
        long attemptId,

        @Schema(required = true) long sizeBytes,
        @Schema(required = true) String sha256,
        @Schema(required = true) Instant createdAt) {}
