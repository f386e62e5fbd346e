package dev.trainyard.api.checkpoints;

import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A job's final export: empty until an attempt trained every step and uploaded its files. */
@Schema(name = "JobExport")
public record ExportView(
        @Schema(required = true) long jobId,

        @Schema(
                required = true,
                description = "The export's files by name; a SUCCEEDED job has at least model.safetensors and"
                        + " config.json")
        List<ExportFileView> files) {}
