package dev.trainyard.runner.engine;

/**
 * A native implementation of training, as the {@link TrainingLoop} drives it: the loop owns the cadence of
 * steps, evaluations, checkpoints and stops; an engine builds the model and runs what the loop asks on its
 * devices. {@code engine.torch.TorchEngine} is the libtorch implementation.
 */
public interface TrainingEngine {

    /**
     * Builds the model of {@code run} and plans its stages: loads the model, joins the run's data-parallel
     * peers (if any) and partitions the blocks. Nothing is placed on the devices until
     * {@link EngineSession#build()}.
     *
     * @param data the run's data (a sample measures block costs or a scripted model's activations)
     * @param threadsPerStage intra-op threads of each stage, as the loop decided
     * @throws SpecException when the spec cannot be trained as written
     */
    EngineSession open(TrainingRun run, TrainingData data, int threadsPerStage);
}
