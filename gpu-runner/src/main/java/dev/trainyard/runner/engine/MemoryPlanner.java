package dev.trainyard.runner.engine;

import java.util.List;

/**
 * Estimates each stage's peak memory: fp32 parameters, gradients and two AdamW moments (16 bytes per
 * parameter), plus the activations the schedule keeps alive for backward.
 */
public final class MemoryPlanner {

  private static final int FLOAT_BYTES = 4;

  private MemoryPlanner() {}

  /** The estimate for one stage. */
  public static MemoryEstimate estimate(ModelLayout layout, StageRange range, int stages,
      PipelineSchedule schedule, int microBatches, int microBatchRows, boolean recompute) {
    List<BlockLayout> blocks = layout.blocks().subList(range.firstBlock(), range.endBlock());
    long params = blocks.stream().mapToLong(BlockLayout::parameters).sum();
    long fullPerSample = blocks.stream().mapToLong(BlockLayout::activationFloatsPerSample).sum();
    long inputPerSample = range.firstBlock() == 0 ? 1 : layout.blocks().get(range.firstBlock() - 1)
        .outputFloatsPerSample();
    int inFlight = schedule.maxInFlight(range.stage(), stages, microBatches);
    // With recomputation only stage inputs stay alive, plus one micro-batch's activations during backward.
    long floats = recompute
        ? inFlight * inputPerSample * microBatchRows + fullPerSample * microBatchRows
        : inFlight * (fullPerSample + inputPerSample) * microBatchRows;
    long p = params * FLOAT_BYTES;
    return new MemoryEstimate(p, p, 2 * p, floats * FLOAT_BYTES);
  }

  /** Throws {@link MemoryPlanException} when the stages together exceed {@code limitBytes}. */
  public static void requireFits(List<StagePlan> stages, long limitBytes) {
    long total = stages.stream().mapToLong(s -> s.memory().totalBytes()).sum();
    if (limitBytes > 0 && total > limitBytes) {
      StringBuilder message = new StringBuilder(String.format(
          "the plan needs about %.1f MiB but only %.1f MiB are available:", MemoryEstimate.mib(total),
          MemoryEstimate.mib(limitBytes)));
      for (StagePlan stage : stages) {
        message.append("\n  stage ").append(stage.range().stage()).append(" on ").append(stage.device())
            .append(": ").append(stage.memory());
      }
      message.append("\nTry more stages (devices), more micro-batches, parallelism.recompute, or a smaller batch.");
      throw new MemoryPlanException(message.toString());
    }
  }

  /** Memory the host reports available (MemAvailable), or 0 when unknown. */
  public static long hostAvailableBytes() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // Not Linux: no limit is enforced.
    }
    return 0;
  }
}
