package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.EngineRuns.Recorded;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.SpecDocument;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine actually learns: models end well below what a model without context can reach. */
class LearningTest {

    @TempDir
    Path tmp;

    @Test
    void smallGptLearnsArithmeticWellBelowTheUnigramBaseline() {
        JobSpec spec = SpecDocument.parseForTraining("""
        {"name": "arith",
         "model": {"type": "gpt", "layers": 2, "dModel": 64, "heads": 4, "seqLen": 32, "vocab": 128},
         "data": {"type": "arithmetic", "seed": 7},
         "training": {"steps": 150, "batchSize": 16, "learningRate": 0.003, "minLearningRate": 0.0003,
                      "warmupSteps": 10, "weightDecay": 0.01, "gradClip": 1.0, "seed": 42, "evalEvery": 150},
         "parallelism": {"stages": 2, "microBatches": 2, "schedule": "1f1b"}}
        """);
        double unigram = TrainingData.open(spec, DataFetcher.unrestricted()).unigramBaselineLoss();

        Recorded run = EngineRuns.train(spec, tmp, Optional.empty(), StopSignal.never());

        System.out.printf(
                "arithmetic: unigram baseline %.3f nats, eval loss after 150 steps %.3f%n",
                unigram, run.result().lastEvalLoss());
        assertThat(run.result().outcome()).isEqualTo(TrainingResult.Outcome.COMPLETED);
        assertThat(run.result().lastEvalLoss()).isLessThan(0.8 * unigram);
    }

    @Test
    void mlpLearnsTheSyntheticTabularTeacher() {
        JobSpec spec = SpecDocument.parseForTraining("""
        {"name": "tabular",
         "model": {"type": "mlp", "inputs": 8, "hidden": [32, 32], "outputs": 3, "task": "classification"},
         "data": {"type": "synthetic-tabular", "seed": 5, "rows": 2048},
         "training": {"steps": 300, "batchSize": 32, "learningRate": 0.01, "minLearningRate": 0, "warmupSteps": 0,
                      "weightDecay": 0, "gradClip": 0, "seed": 1, "evalEvery": 300},
         "parallelism": {"stages": 3, "microBatches": 4, "schedule": "gpipe"}}
        """);

        Recorded run = EngineRuns.train(spec, tmp, Optional.empty(), StopSignal.never());

        // Three balanced classes: a model that learned nothing stays near ln 3 = 1.10.
        assertThat(run.result().lastEvalLoss()).isLessThan(0.6);
    }
}
