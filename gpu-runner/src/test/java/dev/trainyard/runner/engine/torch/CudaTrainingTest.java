package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trainyard.runner.engine.Trainer;
import dev.trainyard.runner.engine.TrainingResult;
import dev.trainyard.runner.engine.TrainingRun;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.SpecDocument;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On a CUDA host (the gpu profile), stages are placed on CUDA devices and training completes. */
class CudaTrainingTest {

    @TempDir
    Path tmp;

    @Test
    void trainsOnCudaDevices() {
        assumeTrue(NativeRuntime.cudaDevices() > 0, "no CUDA device: GPU test skipped");
        JobSpec spec = SpecDocument.parseForTraining("""
        {"model": {"type": "gpt", "layers": 2, "dModel": 32, "heads": 4, "seqLen": 16, "vocab": 128},
         "data": {"type": "arithmetic", "seed": 1},
         "training": {"steps": 5, "batchSize": 8, "seed": 1},
         "parallelism": {"microBatches": 2}}
        """);
        TrainingResult result =
                Trainer.train(TrainingRun.of(spec, NativeRuntime.cudaDevices(), tmp), new TorchEngine());
        assertThat(result.outcome()).isEqualTo(TrainingResult.Outcome.COMPLETED);
        assertThat(NativeRuntime.deviceName(0)).startsWith("cuda:");
    }
}
