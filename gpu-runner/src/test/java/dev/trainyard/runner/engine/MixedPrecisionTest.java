package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainyard.runner.engine.EngineRuns.Recorded;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.TrainingSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bf16 autocast trains the same model approximately: bfloat16 keeps 8 bits of mantissa (relative error
 * ~4e-3 per rounding), so losses are compared to 2e-2 while parameters and optimizer state stay float32.
 */
class MixedPrecisionTest {

    @TempDir
    Path tmp;

    private static JobSpec spec(String precision) {
        JobSpec spec = EngineRuns.withPipeline(EngineRuns.tinyGpt(6, 0.0), 2, 2, "1f1b", false);
        TrainingSpec t = spec.training();
        return spec.withTraining(new TrainingSpec(
                t.steps(),
                t.batchSize(),
                t.learningRate(),
                t.minLearningRate(),
                t.warmupSteps(),
                t.weightDecay(),
                t.gradClip(),
                t.seed(),
                t.evalEvery(),
                precision,
                t.divergenceFactor()));
    }

    @Test
    void bf16AutocastTracksFloat32Training() {
        Recorded fp32 = EngineRuns.train(spec("fp32"), tmp.resolve("fp32"));
        Recorded bf16 = EngineRuns.train(spec("bf16"), tmp.resolve("bf16"));

        for (int i = 0; i < fp32.losses().size(); i++) {
            assertThat(bf16.losses().get(i)).isCloseTo(fp32.losses().get(i), within(2e-2));
        }
        assertThat(bf16.losses().get(5)).isLessThan(bf16.losses().get(0));
        assertThat(EngineRuns.bitwiseEqual(bf16.parameters(), fp32.parameters()))
                .isFalse();
    }
}
