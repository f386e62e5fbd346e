package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.SpecDocument;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Native memory stays flat over many steps: every tensor of a step is freed by that step's scope. */
class NativeMemoryTest {

    @TempDir
    Path tmp;

    @Test
    void residentMemoryDoesNotGrowOverAThousandSteps() {
        JobSpec spec = SpecDocument.parseForTraining("""
        {"name": "flat",
         "model": {"type": "gpt", "layers": 1, "dModel": 16, "heads": 2, "seqLen": 8, "vocab": 128},
         "data": {"type": "arithmetic", "seed": 1},
         "training": {"steps": 1000, "batchSize": 4, "learningRate": 0.001, "seed": 1, "evalEvery": 250},
         "parallelism": {"stages": 2, "microBatches": 2, "schedule": "1f1b", "balance": "params"}}
        """);
        long[] rssAtStep = new long[1001];
        TrainingListener sampler = new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                if (metrics.step() == 200 || metrics.step() == 1000) {
                    // Java heap also counts in RSS: collect, then look at what is not heap.
                    System.gc();
                    rssAtStep[(int) metrics.step()] =
                            PeakMemory.rssBytes() - Runtime.getRuntime().totalMemory();
                }
            }
        };

        Trainer.train(TrainingRun.of(spec, 2, tmp).withThreadsPerStage(1).reportingTo(sampler), new TorchEngine());

        // Without per-step scopes RSS grows by megabytes per step (gigabytes here); allow allocator noise.
        long growth = rssAtStep[1000] - rssAtStep[200];
        System.out.printf(
                "RSS minus Java heap at step 200: %d MiB, at step 1000: %d MiB%n",
                rssAtStep[200] >> 20, rssAtStep[1000] >> 20);
        assertThat(growth).isLessThan(48L << 20);
    }
}
