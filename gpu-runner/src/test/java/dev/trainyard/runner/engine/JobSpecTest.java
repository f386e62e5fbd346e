package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The documented example spec parses; specs the engine cannot train are refused naming the key. */
class JobSpecTest {

  static final String EXAMPLE = """
      {
        "name": "arith-gpt", "project": "demo", "priority": "normal",
        "resources": { "pool": "cpu-local", "gpus": 2, "minGpus": 1, "multiNode": false },
        "limits": { "maxCostUsd": 5.0, "maxRuntimeSeconds": 3600, "maxRestarts": 3 },
        "model": { "type": "gpt", "layers": 2, "dModel": 64, "heads": 4, "seqLen": 32, "vocab": 128, "dropout": 0.0 },
        "data": { "type": "arithmetic", "seed": 7, "evalFraction": 0.1 },
        "training": { "steps": 200, "batchSize": 16, "learningRate": 0.003, "minLearningRate": 0.0003,
                      "warmupSteps": 10, "weightDecay": 0.01, "gradClip": 1.0, "seed": 42, "evalEvery": 50,
                      "precision": "fp32" },
        "parallelism": { "stages": 2, "microBatches": 4, "schedule": "1f1b", "recompute": false, "dataParallel": 1 },
        "checkpoint": { "everySteps": 50, "keepLast": 3, "keepBest": false }
      }
      """;

  @Test
  void parsesTheDocumentedExample() {
    JobSpec spec = JobSpec.parse(EXAMPLE);

    assertThat(spec.model()).isEqualTo(new GptSpec(2, 64, 4, 32, 128, 0.0));
    assertThat(spec.parallelism().pipelineSchedule()).isEqualTo(PipelineSchedule.ONE_F_ONE_B);
    assertThat(spec.parallelism().microBatches()).isEqualTo(4);
    assertThat(spec.training().seed()).isEqualTo(42);
    assertThat(spec.checkpoint().everySteps()).isEqualTo(50);
    assertThat(JobSpec.parse(spec.toJson())).isEqualTo(spec);
  }

  @Test
  void parsesAnMlp() {
    JobSpec spec = JobSpec.parse("""
        {"model": {"type": "mlp", "inputs": 4, "hidden": [8], "outputs": 1, "task": "regression"},
         "data": {"type": "synthetic-tabular", "seed": 1}, "training": {"steps": 1, "batchSize": 2}}
        """);
    assertThat(spec.model()).isEqualTo(new MlpSpec(4, java.util.List.of(8), 1, "regression"));
    assertThat(spec.parallelism().stages()).isZero();
  }

  @Test
  void refusesWhatItCannotTrain() {
    assertThatThrownBy(() -> JobSpec.parse(EXAMPLE.replace("\"heads\": 4", "\"heads\": 5")))
        .isInstanceOf(SpecException.class).hasMessageContaining("model.dModel");
    assertThatThrownBy(() -> JobSpec.parse(EXAMPLE.replace("\"microBatches\": 4", "\"microBatches\": 3")))
        .isInstanceOf(SpecException.class).hasMessageContaining("microBatches");
    assertThatThrownBy(() -> JobSpec.parse(EXAMPLE.replace("\"1f1b\"", "\"zigzag\"")))
        .isInstanceOf(SpecException.class).hasMessageContaining("schedule");
    assertThatThrownBy(() -> JobSpec.parse(EXAMPLE.replace("\"type\": \"gpt\"", "\"type\": \"rnn\"")))
        .isInstanceOf(SpecException.class);
  }

  @Test
  void stageCountFollowsTheDevicesGranted() {
    JobSpec spec = JobSpec.parse(EXAMPLE);
    assertThat(TrainingRun.of(spec, 2, java.nio.file.Path.of("out")).stageCount()).isEqualTo(2);
    assertThat(TrainingRun.of(spec, 1, java.nio.file.Path.of("out")).stageCount()).isEqualTo(1);
    assertThat(TrainingRun.of(spec.withParallelism(ParallelismSpec.defaults()), 3, java.nio.file.Path.of("out"))
        .stageCount()).isEqualTo(3);
  }
}
