package dev.trainyard.runner.engine;

/**
 * The parallelism section: pipeline stages (0 = derive from the devices granted), micro-batches, schedule,
 * activation recomputation, data-parallel replicas and how stages are balanced ({@code time} or
 * {@code params}).
 */
public record ParallelismSpec(
    int stages, int microBatches, String schedule, boolean recompute, int dataParallel, String balance) {

  public ParallelismSpec {
    microBatches = microBatches == 0 ? 1 : microBatches;
    schedule = schedule == null ? "1f1b" : schedule;
    dataParallel = dataParallel == 0 ? 1 : dataParallel;
    balance = balance == null ? "time" : balance;
  }

  /** The default: one stage per device, one micro-batch, 1F1B. */
  public static ParallelismSpec defaults() {
    return new ParallelismSpec(0, 1, null, false, 1, null);
  }

  /** The schedule named in the spec. */
  public PipelineSchedule pipelineSchedule() {
    return PipelineSchedule.named(schedule);
  }

  void validate() {
    SpecException.require(stages >= 0, "parallelism.stages must not be negative");
    SpecException.require(microBatches >= 1, "parallelism.microBatches must be at least 1");
    pipelineSchedule();
    SpecException.require(dataParallel >= 1, "parallelism.dataParallel must be at least 1");
    SpecException.require(
        balance.equals("time") || balance.equals("params"), "parallelism.balance must be time or params");
  }
}
