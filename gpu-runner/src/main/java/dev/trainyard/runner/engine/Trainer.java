package dev.trainyard.runner.engine;

/** The engine's entry point: trains one run on a given engine to completion or until its stop signal says stop. */
public final class Trainer {

  private Trainer() {}

  /**
   * Trains {@code run} on {@code engine} from this thread (stage work runs on threads the engine owns) and
   * returns how it ended.
   *
   * @throws SpecException when the spec cannot be trained as written
   * @throws MemoryPlanException when the plan does not fit the available memory
   * @throws CheckpointIntegrityException when the checkpoint to resume from fails its checks
   */
  public static TrainingResult train(TrainingRun run, TrainingEngine engine) {
    run.spec().validate();
    return new TrainingLoop(run, engine).train();
  }
}
