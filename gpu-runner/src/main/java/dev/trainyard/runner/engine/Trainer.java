package dev.trainyard.runner.engine;

/** The engine's entry point: trains one run on a given engine to completion or until its stop signal says stop. */
public final class Trainer {

    private Trainer() {}

    /**
     * Trains {@code run} on {@code engine} from this thread (stage work runs on threads the engine owns) and
     * returns how it ended.
     *
     * <p>The run's spec is taken as given: documents are checked and given their defaults where they are read
     * ({@code SpecDocument.parseForTraining}), and embedders may set values a document cannot (a checkpoint interval
     * of 0: only at the end and on request).
     *
     * @throws SpecException when the spec's files cannot be trained
     * @throws MemoryPlanException when the plan does not fit the available memory
     * @throws CheckpointIntegrityException when the checkpoint to resume from fails its checks
     * @throws TrainingDivergedException when the loss diverged; the checkpoints written before it are kept
     */
    public static TrainingResult train(TrainingRun run, TrainingEngine engine) {
        return new TrainingLoop(run, engine).train();
    }
}
