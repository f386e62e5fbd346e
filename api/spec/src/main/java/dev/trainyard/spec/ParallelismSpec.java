package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** How the model is split: pipeline stages x data-parallel replicas. */
@Schema(name = "ParallelismSpec")
public record ParallelismSpec(
        @Schema(description = "Pipeline stages (default: devices granted / dataParallel)")
        Integer stages,

        @Schema(description = "Micro-batches per step (default " + SpecDefaults.MICRO_BATCHES + ")")
        Integer microBatches,

        @Schema(description = "gpipe or 1f1b (default)") String schedule,

        @Schema(description = "Recompute activations in backward to save memory")
        Boolean recompute,

        @Schema(
                description =
                        "Data-parallel replicas of the whole pipeline (default " + SpecDefaults.DATA_PARALLEL + ")")
        Integer dataParallel,

        @Schema(
                description = "How blocks are cut into stages: time (default; balances per-block times measured in a "
                        + "short profiling pass) or params (balances parameter counts: no profiling, the same cut on any "
                        + "machine)")
        String balance) {}
