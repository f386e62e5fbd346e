package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Where a job may run and how many devices it needs. */
@Schema(name = "Resources")
public record Resources(
        @Schema(
                description = "Pool name; this or gpuType is required",
                example = "cpu-local",
                maxLength = 63,
                pattern = Violations.RESOURCE_NAME_PATTERN)
        String pool,

        @Schema(description = "Any pool with this GPU type", example = "h100", minLength = 1, maxLength = 64)
        String gpuType,

        @Schema(
                required = true,
                description = "Devices asked for",
                example = "2",
                minimum = "1",
                maximum = "" + JobSpecValidator.MAX_GPUS)
        Integer gpus,

        @Schema(
                description = "Elastic lower bound (default: gpus); with dataParallel > 1 a multiple of one replica's"
                        + " devices, gpus / dataParallel",
                minimum = "1",
                maximum = "" + JobSpecValidator.MAX_GPUS)
        Integer minGpus,

        @Schema(
                description = "May be spread over several runners: whole data-parallel replicas, or each replica's"
                        + " pipeline cut between stages where no single runner holds a replica (elastic: on as many"
                        + " cut replicas as fit, at least minGpus' worth). A stage's tensorParallel devices always"
                        + " sit within one runner")
        Boolean multiNode) {}
