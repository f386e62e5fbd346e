package dev.trainyard.runner.engine;

/** The checkpoint section: write every N steps (0 = only at the end), keep the last N, keep the best. */
public record CheckpointSpec(int everySteps, int keepLast, boolean keepBest) {

  public CheckpointSpec {
    keepLast = keepLast == 0 ? 3 : keepLast;
  }

  /** Checkpoint only at the end and on request, keeping three. */
  public static CheckpointSpec defaults() {
    return new CheckpointSpec(0, 3, false);
  }

  void validate() {
    SpecException.require(everySteps >= 0, "checkpoint.everySteps must not be negative");
    SpecException.require(keepLast >= 1, "checkpoint.keepLast must be at least 1");
  }
}
