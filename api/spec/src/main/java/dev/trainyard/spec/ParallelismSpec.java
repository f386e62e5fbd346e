package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * How the model is split: tensor-parallel devices x pipeline stages x data-parallel replicas, and how the replicas
 * share optimizer state.
 */
@Schema(name = "ParallelismSpec")
public record ParallelismSpec(
        @Schema(
                description = "Pipeline stages (default: devices granted / (dataParallel x tensorParallel))",
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
        String balance,

        @Schema(
                description = "Devices each layer is split across, Megatron-style: attention heads, the MLP and the "
                        + "vocabulary are divided among them (default " + SpecDefaults.TENSOR_PARALLEL + "). A "
                        + "tensor-parallel group always sits inside one runner; devices = tensorParallel x stages x "
                        + "dataParallel. gpt models only; model.heads, 4 x model.dModel and model.vocab must be "
                        + "divisible by it",
                minimum = "1",
                maximum = "" + JobSpecValidator.MAX_TENSOR_PARALLEL)
        Integer tensorParallel,

        @Schema(
                description = "ZeRO stage: how data-parallel ranks share the training state. 0 (default): every rank"
                        + " holds all of it; 1: each of the d ranks keeps 1/d of the AdamW moments; 2: also 1/d of the"
                        + " averaged gradients. Gradients are reduce-scattered, each rank updates its slice of the"
                        + " parameters and the slices are all-gathered; 3: also 1/d of the parameters, gathered"
                        + " block by block (FSDP-style): a block's whole parameters exist only while it runs forward"
                        + " and, recomputed, backward, and its gradients are reduce-scattered right after its backward,"
                        + " so a device holds its 1/d plus one block whole. Without dataParallel > 1 there is nothing"
                        + " to share and it has no effect",
                minimum = "0",
                maximum = "3")
        Integer zero) {

    /** A layout without tensor parallelism or ZeRO sharding (both fields left out). */
    public ParallelismSpec(
            Integer stages,
            Integer microBatches,
            String schedule,
            Boolean recompute,
            Integer dataParallel,
            String balance) {
        this(stages, microBatches, schedule, recompute, dataParallel, balance, null, null);
    }

    /** Devices per tensor-parallel group: 1 when left out. */
    public int tensorParallelOrDefault() {
        return tensorParallel == null ? SpecDefaults.TENSOR_PARALLEL : tensorParallel;
    }

    /** The ZeRO stage, 0 when not given. */
    public int zeroStage() {
        return zero == null ? SpecDefaults.ZERO : zero;
    }
}
