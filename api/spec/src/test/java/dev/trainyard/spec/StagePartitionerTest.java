package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The partitioner minimises the most expensive stage over contiguous cuts. */
class StagePartitionerTest {

    private static List<String> cuts(double[] costs, int stages) {
        return StagePartitioner.partition(costs, stages).stream()
                .map(r -> r.firstBlock() + "-" + r.endBlock())
                .toList();
    }

    @Test
    void balancesTheSlowestStage() {
        assertThat(cuts(new double[] {1, 1, 1, 1}, 2)).containsExactly("0-2", "2-4");
        assertThat(cuts(new double[] {4, 1, 1, 1, 1}, 2)).containsExactly("0-1", "1-5");
        assertThat(cuts(new double[] {1, 2, 3, 4, 5, 6}, 3)).containsExactly("0-3", "3-5", "5-6");
        assertThat(cuts(new double[] {5, 1, 1, 5}, 4)).containsExactly("0-1", "1-2", "2-3", "3-4");
    }

    @Test
    void oneStageTakesEverything() {
        assertThat(cuts(new double[] {3, 2, 1}, 1)).containsExactly("0-3");
    }

    @Test
    void refusesMoreStagesThanBlocks() {
        assertThatThrownBy(() -> StagePartitioner.partition(new double[] {1, 2}, 3))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void gptLayoutCountsParametersExactly() {
        ModelSpec.Gpt gpt = new ModelSpec.Gpt("gpt", 2, 64, 4, 32, 128, 0.0);
        ModelLayout layout = ModelLayout.of(gpt);
        // Embedding 128*64 + 32*64; per layer 12*d^2 + 13*d; head 2*64 + 64*128.
        assertThat(layout.blocks()).hasSize(4);
        assertThat(layout.parameters()).isEqualTo(128 * 64 + 32 * 64 + 2 * (12 * 64 * 64 + 13 * 64) + 128 + 64 * 128);
    }
}
