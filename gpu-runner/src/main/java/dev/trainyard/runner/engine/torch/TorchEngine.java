package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.EngineSession;
import dev.trainyard.runner.engine.TrainingData;
import dev.trainyard.runner.engine.TrainingEngine;
import dev.trainyard.runner.engine.TrainingRun;

/** The libtorch engine: pipeline stages on CPU or CUDA devices, AdamW, Gloo or NCCL between replicas. */
public final class TorchEngine implements TrainingEngine {

    @Override
    public EngineSession open(TrainingRun run, TrainingData data, int threadsPerStage) {
        return new TorchSession(run, data, threadsPerStage);
    }
}
