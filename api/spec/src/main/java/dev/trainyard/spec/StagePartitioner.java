package dev.trainyard.spec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a sequence of block costs into contiguous stages so that the most expensive stage is as cheap as
 * possible (the pipeline runs at the pace of its slowest stage).
 */
public final class StagePartitioner {

    private StagePartitioner() {}

    /** The optimal contiguous partition of {@code costs} into {@code stages} non-empty stages. */
    public static List<StageRange> partition(double[] costs, int stages) {
        int n = costs.length;
        if (stages < 1 || stages > n) {
            throw new IllegalArgumentException("cannot cut " + n + " blocks into " + stages + " stages");
        }
        double[] prefix = new double[n + 1];
        for (int i = 0; i < n; i++) {
            prefix[i + 1] = prefix[i] + costs[i];
        }
        // best[k][i]: smallest possible max stage cost for the first i blocks in k stages; cut[k][i]: last cut.
        double[][] best = new double[stages + 1][n + 1];
        int[][] cut = new int[stages + 1][n + 1];
        for (double[] row : best) {
            Arrays.fill(row, Double.POSITIVE_INFINITY);
        }
        best[0][0] = 0;
        for (int k = 1; k <= stages; k++) {
            for (int i = k; i <= n; i++) {
                for (int j = k - 1; j < i; j++) {
                    double candidate = Math.max(best[k - 1][j], prefix[i] - prefix[j]);
                    // Strictly smaller keeps the earliest cut on ties, so the result is deterministic.
                    if (candidate < best[k][i]) {
                        best[k][i] = candidate;
                        cut[k][i] = j;
                    }
                }
            }
        }
        return rangesFromCuts(cut, stages, n);
    }

    /** The partition balancing parameter counts. */
    public static List<StageRange> byParameters(ModelLayout layout, int stages) {
        return partition(
                Arrays.stream(layout.parameterCounts()).asDoubleStream().toArray(), stages);
    }

    private static List<StageRange> rangesFromCuts(int[][] cut, int stages, int n) {
        int[] ends = new int[stages + 1];
        ends[stages] = n;
        for (int k = stages; k >= 1; k--) {
            ends[k - 1] = cut[k][ends[k]];
        }
        List<StageRange> ranges = new ArrayList<>(stages);
        for (int k = 0; k < stages; k++) {
            ranges.add(new StageRange(k, ends[k], ends[k + 1]));
        }
        return ranges;
    }
}
