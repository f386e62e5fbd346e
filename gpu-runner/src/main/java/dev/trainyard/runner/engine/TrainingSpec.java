package dev.trainyard.runner.engine;

/** The training section: steps, batch, AdamW with warmup + cosine decay, clipping, seed, eval interval. */
public record TrainingSpec(
    int steps,
    int batchSize,
    double learningRate,
    double minLearningRate,
    int warmupSteps,
    double weightDecay,
    double gradClip,
    long seed,
    int evalEvery,
    String precision) {

  public TrainingSpec {
    learningRate = learningRate == 0 ? 1e-3 : learningRate;
    precision = precision == null ? "fp32" : precision;
  }

  /** True for bf16 autocast: matmuls in bfloat16, parameters, optimizer state and loss in float32. */
  public boolean bf16() {
    return precision.equals("bf16");
  }

  void validate() {
    SpecException.require(steps >= 1, "training.steps must be at least 1");
    SpecException.require(batchSize >= 1, "training.batchSize must be at least 1");
    SpecException.require(learningRate > 0, "training.learningRate must be positive");
    SpecException.require(
        minLearningRate >= 0 && minLearningRate <= learningRate,
        "training.minLearningRate must be in [0, learningRate]");
    SpecException.require(warmupSteps >= 0 && weightDecay >= 0 && gradClip >= 0 && evalEvery >= 0,
        "training.warmupSteps, weightDecay, gradClip and evalEvery must not be negative");
    SpecException.require(precision.equals("fp32") || precision.equals("bf16"),
        "training.precision must be fp32 or bf16");
  }
}
