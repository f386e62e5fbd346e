package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** How the model is split: pipeline stages x data-parallel replicas. */
@Schema(name = "ParallelismSpec")
public record ParallelismSpec(
        @Schema(
                description = "Pipeline stages (default: devices granted / dataParallel)",
                minimum = "1",
                maximum = "" + JobSpecValidator.MAX_GPUS)
        Integer stages,

        @Schema(
                description = "Micro-batches per step (default " + SpecDefaults.MICRO_BATCHES + ")",
                minimum = "1",
                maximum = "4096")
        Integer microBatches,

        @Schema(
                description = "gpipe or 1f1b (default)",
                enumeration = {"gpipe", "1f1b"})
        String schedule,

        @Schema(description = "Recompute activations in backward to save memory")
        Boolean recompute,

        @Schema(
                description =
                        "Data-parallel replicas of the whole pipeline (default " + SpecDefaults.DATA_PARALLEL + ")",
                minimum = "1",
                maximum = "" + JobSpecValidator.MAX_GPUS)
        Integer dataParallel,

        @Schema(
                description = "How blocks are cut into stages: time (default; balances per-block times measured in a "
                        + "short profiling pass) or params (balances parameter counts: no profiling, the same cut on any "
                        + "machine)",
                enumeration = {"time", "params"})
        String balance) {}
