package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Where a job may run and how many devices it needs. */
@Schema(name = "Resources")
public record Resources(
        @Schema(description = "Pool name; this or gpuType is required", example = "cpu-local")
        String pool,

        @Schema(description = "Any pool with this GPU type", example = "h100")
        String gpuType,

        @Schema(required = true, description = "Devices asked for, 1-512", example = "2")
        Integer gpus,

        @Schema(description = "Elastic lower bound (default: gpus)")
        Integer minGpus,

        @Schema(description = "May be spread over several runners (data parallelism across nodes)")
        Boolean multiNode) {}
