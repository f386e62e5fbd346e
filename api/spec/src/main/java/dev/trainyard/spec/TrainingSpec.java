package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Optimisation settings: AdamW with linear warmup and cosine decay to {@code minLearningRate}. */
@Schema(name = "TrainingSpec")
public record TrainingSpec(
        @Schema(required = true, description = "Optimizer steps", example = "200")
        Long steps,

        @Schema(
                description = "Samples per step over all micro-batches and replicas (default " + SpecDefaults.BATCH_SIZE
                        + ")")
        Integer batchSize,

        @Schema(description = "Peak learning rate (default " + SpecDefaults.LEARNING_RATE + ")")
        Double learningRate,

        @Schema(description = "Learning rate at the end of the cosine decay (default learningRate / 10)")
        Double minLearningRate,

        @Schema(description = "Linear warmup steps (default steps / 10, at most 100)")
        Integer warmupSteps,

        @Schema(description = "AdamW weight decay (default " + SpecDefaults.WEIGHT_DECAY + ")")
        Double weightDecay,

        @Schema(description = "Global gradient-norm clip, 0 for none (default " + SpecDefaults.GRAD_CLIP + ")")
        Double gradClip,

        @Schema(description = "Seed of initialisation and data order (default " + SpecDefaults.TRAINING_SEED + ")")
        Long seed,

        @Schema(description = "Evaluate every N steps, 0 for never (default steps / 10)")
        Integer evalEvery,

        @Schema(description = "fp32 (default) or bf16 autocast")
        String precision,

        @Schema(
                description = "Fail the job when a step's loss is more than this many times the lowest loss so far"
                        + " and above the first step's loss; 0 for never (default " + SpecDefaults.DIVERGENCE_FACTOR
                        + "). A non-finite loss always fails it")
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
}
