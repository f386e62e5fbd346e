package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.spec.InvalidFieldsException;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ModelSpec;
import dev.trainyard.spec.ParallelismSpec;
import dev.trainyard.spec.SpecDocument;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The documented example spec parses for training; specs the engine cannot train are refused naming the key. */
class JobSpecTest {

    static final String EXAMPLE = """
      {
        "name": "arith-gpt", "project": "demo", "priority": "normal",
        "resources": { "pool": "cpu-local", "gpus": 2, "minGpus": 2, "multiNode": false },
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
        JobSpec spec = SpecDocument.parseForTraining(EXAMPLE);

        assertThat(spec.model()).isEqualTo(new ModelSpec.Gpt("gpt", 2, 64, 4, 32, 128, 0.0));
        assertThat(PipelineSchedule.named(spec.parallelism().schedule())).isEqualTo(PipelineSchedule.ONE_F_ONE_B);
        assertThat(spec.parallelism().microBatches()).isEqualTo(4);
        assertThat(spec.training().seed()).isEqualTo(42);
        assertThat(spec.checkpoint().everySteps()).isEqualTo(50);
        assertThat(SpecDocument.parseForTraining(SpecDocument.toJson(spec))).isEqualTo(spec);
    }

    @Test
    void anOfflineMlpGetsThePlatformDefaults() {
        JobSpec spec = SpecDocument.parseForTraining("""
        {"model": {"type": "mlp", "inputs": 4, "hidden": [8], "outputs": 1, "task": "regression"},
         "data": {"type": "synthetic-tabular", "seed": 1}, "training": {"steps": 1, "batchSize": 4}}
        """);
        assertThat(spec.model()).isEqualTo(new ModelSpec.Mlp("mlp", 4, java.util.List.of(8), 1, "regression"));
        assertThat(spec.parallelism().stages()).isNull();
        assertThat(spec.parallelism().microBatches()).isEqualTo(4);
        assertThat(spec.training().gradClip()).isEqualTo(1.0);
    }

    @Test
    void refusesWhatItCannotTrain() {
        assertThatThrownBy(() -> SpecDocument.parseForTraining(EXAMPLE.replace("\"heads\": 4", "\"heads\": 5")))
                .isInstanceOf(InvalidFieldsException.class)
                .hasMessageContaining("model.heads");
        assertThatThrownBy(() ->
                        SpecDocument.parseForTraining(EXAMPLE.replace("\"microBatches\": 4", "\"microBatches\": 3")))
                .isInstanceOf(InvalidFieldsException.class)
                .hasMessageContaining("batchSize");
        assertThatThrownBy(() -> SpecDocument.parseForTraining(EXAMPLE.replace("\"1f1b\"", "\"zigzag\"")))
                .isInstanceOf(InvalidFieldsException.class)
                .hasMessageContaining("parallelism.schedule");
        assertThatThrownBy(
                        () -> SpecDocument.parseForTraining(EXAMPLE.replace("\"type\": \"gpt\"", "\"type\": \"rnn\"")))
                .isInstanceOf(InvalidFieldsException.class)
                .hasMessageContaining("model");
    }

    @Test
    void stageCountFollowsTheDevicesGranted() {
        JobSpec spec = SpecDocument.parseForTraining(EXAMPLE);
        ParallelismSpec unstaged = new ParallelismSpec(null, 4, "1f1b", false, 1, "time");
        assertThat(TrainingRun.of(spec, 2, Path.of("out")).stageCount()).isEqualTo(2);
        assertThat(TrainingRun.of(spec, 1, Path.of("out")).stageCount()).isEqualTo(1);
        assertThat(TrainingRun.of(spec.withParallelism(unstaged), 3, Path.of("out"))
                        .stageCount())
                .isEqualTo(3);
    }

    @Test
    void aProcessOfAnElasticJobRunningShortKeepsOneReplicasStages() {
        // two replicas of a 2-stage pipeline (4 devices asked for, at least 2): one runner with 2 devices holds both
        JobSpec spec = SpecDocument.parseForTraining(
                EXAMPLE.replace("\"gpus\": 2, \"minGpus\": 2", "\"gpus\": 4, \"minGpus\": 2")
                        .replace("\"dataParallel\": 1", "\"dataParallel\": 2"));
        TrainingRun bothReplicas = TrainingRun.of(spec, 2, Path.of("out")).asReplica(DataParallelGroup.whole(2));
        assertThat(bothReplicas.stageCount()).isEqualTo(2);
        // and with all four devices, one pipeline of 2 stages trains both replicas' rows, as before
        assertThat(TrainingRun.of(spec, 4, Path.of("out")).stageCount()).isEqualTo(2);
    }
}
