package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.spec.DataSpec;
import dev.trainyard.spec.ModelSpec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Data order is a pure function of (seed, position); held-out rows never appear in training batches. */
class TrainingDataTest {

    @Test
    void arithmeticLinesAreCorrectSums() {
        String text = new String(ArithmeticCorpus.generate(3, 50), StandardCharsets.US_ASCII);
        for (String line : text.split("\n")) {
            String[] parts = line.split("[+=]");
            assertThat(Integer.parseInt(parts[0]) + Integer.parseInt(parts[1])).isEqualTo(Integer.parseInt(parts[2]));
        }
    }

    @Test
    void theSameSeedAndPositionGiveTheSameBatch() {
        TokenCorpus a = TokenCorpus.of(ArithmeticCorpus.generate(7, 2000), 16, 0.1, 7);
        TokenCorpus b = TokenCorpus.of(ArithmeticCorpus.generate(7, 2000), 16, 0.1, 7);

        assertThat(a.trainBatch(5, 4).inputs())
                .containsExactly(b.trainBatch(5, 4).inputs());
        assertThat(a.trainBatch(5, 4).inputs()).isNotEqualTo(a.trainBatch(6, 4).inputs());
        assertThat(a.evalBatch(0, 4).inputs()).containsExactly(b.evalBatch(0, 4).inputs());
    }

    @Test
    void targetsAreInputsShiftedByOne() {
        TokenBatch batch =
                TokenCorpus.of(ArithmeticCorpus.generate(7, 2000), 16, 0.1, 7).trainBatch(0, 2);
        for (int t = 0; t < 15; t++) {
            assertThat(batch.targets()[t]).isEqualTo(batch.inputs()[t + 1]);
        }
    }

    @Test
    void microBatchSlicesPartitionTheBatch() {
        TokenBatch batch =
                TokenCorpus.of(ArithmeticCorpus.generate(7, 2000), 8, 0.1, 7).trainBatch(0, 4);
        TokenBatch second = batch.slice(1, 2);
        assertThat(second.rows()).isEqualTo(2);
        assertThat(second.inputs()[0]).isEqualTo(batch.inputs()[16]);
    }

    @Test
    void tabularEvalRowsAreHeldOut() {
        ModelSpec.Mlp model = new ModelSpec.Mlp("mlp", 3, List.of(), 2, "classification");
        TabularData data =
                TabularData.synthetic(model, new DataSpec.SyntheticTabular("synthetic-tabular", 1L, 40, 0.25));
        java.util.Set<Float> trainFirstFeatures = new java.util.HashSet<>();
        for (int p = 0; p < 50; p++) {
            float[] x = data.trainBatch(p, 8).inputs();
            for (int r = 0; r < 8; r++) {
                trainFirstFeatures.add(x[r * 3]);
            }
        }
        float[] eval = data.evalBatch(0, 8).inputs();
        for (int r = 0; r < 8; r++) {
            assertThat(trainFirstFeatures).doesNotContain(eval[r * 3]);
        }
    }
}
