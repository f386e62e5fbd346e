package dev.trainyard.runner.engine;

import dev.trainyard.runner.engine.torch.TorchTrainer;
import dev.trainyard.spec.InvalidFieldsException;
import dev.trainyard.spec.JobSpecValidator;

/** The engine's entry point: trains one run to completion or until its stop signal says stop. */
public final class Trainer {

  private Trainer() {}

  /**
   * Trains {@code run} on this thread (stage work runs on threads the engine owns) and returns how it ended.
   *
   * @throws InvalidFieldsException when the spec cannot be trained as written
   * @throws SpecException when its files cannot be trained
   * @throws MemoryPlanException when the plan does not fit the available memory
   * @throws CheckpointIntegrityException when the checkpoint to resume from fails its checks
   */
  public static TrainingResult train(TrainingRun run) {
    JobSpecValidator.normalizeForTraining(run.spec());
    return new TorchTrainer(run).train();
  }
}
