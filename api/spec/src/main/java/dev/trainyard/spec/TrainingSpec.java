package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Optimisation settings: AdamW with linear warmup and cosine decay to {@code minLearningRate}. */
@Schema(name = "TrainingSpec")
public record TrainingSpec(
        @Schema(required = true, description = "Optimizer steps", example = "200", minimum = "1", maximum = "100000000")
        Long steps,

        @Schema(
                description = "Samples per step over all micro-batches and replicas (default " + SpecDefaults.BATCH_SIZE
                        + ")",
                minimum = "1",
                maximum = "65536")
        Integer batchSize,

        @Schema(
                description = "Peak learning rate (default " + SpecDefaults.LEARNING_RATE + ")",
                minimum = "1e-9",
                maximum = "10")
        Double learningRate,

        @Schema(
                description =
                        "Learning rate at the end of the cosine decay, at most learningRate (default learningRate / 10)",
                minimum = "0")
        Double minLearningRate,

        @Schema(description = "Linear warmup steps, at most steps (default steps / 10, at most 100)", minimum = "0")
        Integer warmupSteps,

        @Schema(
                description = "AdamW weight decay (default " + SpecDefaults.WEIGHT_DECAY + ")",
                minimum = "0",
                maximum = "10")
        Double weightDecay,

        @Schema(
                description = "Global gradient-norm clip, 0 for none (default " + SpecDefaults.GRAD_CLIP + ")",
                minimum = "0",
                maximum = "1000000")
        Double gradClip,

        @Schema(
                description = "Seed of initialisation and data order (default " + SpecDefaults.TRAINING_SEED + ")",
                minimum = "0",
                maximum = "9223372036854775807")
        Long seed,

        @Schema(
                description = "Evaluate every N steps, 0 for never (default steps / 10)",
                minimum = "0",
                maximum = "2147483647")
        Integer evalEvery,

        @Schema(
                description = "fp32 (default) or bf16 autocast",
                enumeration = {"fp32", "bf16"})
        String precision,

        @Schema(
                description = "Fail the job when a step's loss is more than this many times the lowest loss so far"
                        + " and above the first step's loss; 0 for never (default " + SpecDefaults.DIVERGENCE_FACTOR
                        + "). A non-finite loss always fails it",
                minimum = "0",
                maximum = "1000000000")
        Double divergenceFactor) {

    /** True for bf16 autocast: matmuls in bfloat16, parameters, optimizer state and loss in float32. */
    public boolean bf16() {
        return "bf16".equals(precision);
    }

    /** Returns a copy that trains for {@code otherSteps} steps, all else equal. */
    public TrainingSpec withSteps(long otherSteps) {
        return new TrainingSpec(
                otherSteps,
                batchSize,
                learningRate,
                minLearningRate,
                warmupSteps,
                weightDecay,
                gradClip,
                seed,
                evalEvery,
                precision,
                divergenceFactor);
    }

    /** Returns a copy whose steps take {@code otherBatchSize} sequences, all else equal. */
    public TrainingSpec withBatchSize(int otherBatchSize) {
        return new TrainingSpec(
                steps,
                otherBatchSize,
                learningRate,
                minLearningRate,
                warmupSteps,
                weightDecay,
                gradClip,
                seed,
                evalEvery,
                precision,
                divergenceFactor);
    }
}
