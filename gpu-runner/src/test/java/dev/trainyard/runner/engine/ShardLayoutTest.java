package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ShardLayoutTest {

    /** A [6, 2] tensor holding 0..11: row i is {2i, 2i + 1}. */
    private static final HostTensor QKV = new HostTensor("qkv", new long[] {6, 2}, range(12));

    @Test
    void aRankOfAThreePartSplitTakesItsRowsOfEachPart() {
        ShardLayout qkv = new ShardLayout(0, 3);

        // parts are rows {0,1}, {2,3}, {4,5}; rank 0 gets the first row of each, rank 1 the second
        assertThat(qkv.slice(QKV, 0, 2).data()).containsExactly(0, 1, 4, 5, 8, 9);
        assertThat(qkv.slice(QKV, 1, 2).data()).containsExactly(2, 3, 6, 7, 10, 11);
        assertThat(qkv.slice(QKV, 1, 2).shape()).containsExactly(3, 2);
    }

    @Test
    void columnsSplitTheInnerDimension() {
        HostTensor slice = ShardLayout.COLUMNS.slice(QKV, 1, 2);

        assertThat(slice.shape()).containsExactly(6, 1);
        assertThat(slice.data()).containsExactly(1, 3, 5, 7, 9, 11);
    }

    @Test
    void gatheringTheRanksSlicesGivesTheWholeTensorBack() {
        for (ShardLayout layout : List.of(ShardLayout.ROWS, ShardLayout.COLUMNS, new ShardLayout(0, 3))) {
            int ranks = layout.equals(ShardLayout.ROWS) ? 3 : 2;
            List<HostTensor> slices = java.util.stream.IntStream.range(0, ranks)
                    .mapToObj(r -> layout.slice(QKV, r, ranks))
                    .toList();

            HostTensor whole = layout.gather(slices);

            assertThat(whole.shape()).containsExactly(6, 2);
            assertThat(whole.data()).containsExactly(QKV.data());
        }
    }

    @Test
    void refusesASplitThatDoesNotDivide() {
        assertThatThrownBy(() -> new ShardLayout(0, 3).slice(QKV, 0, 4)).isInstanceOf(IllegalArgumentException.class);
    }

    private static float[] range(int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = i;
        }
        return values;
    }
}
