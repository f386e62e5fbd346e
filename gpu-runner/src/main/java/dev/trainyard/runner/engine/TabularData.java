package dev.trainyard.runner.engine;

import dev.trainyard.spec.DataSpec;
import dev.trainyard.spec.ModelSpec;
import java.util.SplittableRandom;

/**
 * Feature rows with a class or value per row, generated ({@code synthetic-tabular}: Gaussian features
 * labelled by a fixed random tanh teacher, the same rows for the same seed) or read from a file
 * ({@link TabularFile}). The last {@code evalFraction} of the rows is held out.
 */
public final class TabularData implements TrainingData {

    private final float[] features;
    private final long[] classes;
    private final float[] values;
    private final int inputs;
    private final int trainRows;
    private final int totalRows;
    private final long seed;

    TabularData(float[] features, long[] classes, float[] values, int inputs, int trainRows, int totalRows, long seed) {
        this.features = features;
        this.classes = classes;
        this.values = values;
        this.inputs = inputs;
        this.trainRows = trainRows;
        this.totalRows = totalRows;
        this.seed = seed;
    }

    /** Generates {@code data.rows} rows for the model's input and output sizes. */
    public static TabularData synthetic(ModelSpec.Mlp model, DataSpec.SyntheticTabular data) {
        SplittableRandom random = new SplittableRandom(data.seed());
        int rows = data.rows();
        int in = model.inputs();
        int out = model.outputs();
        int hidden = 16;
        double[][] w1 = gaussianMatrix(random, in, hidden, 1 / Math.sqrt(in));
        double[][] w2 = gaussianMatrix(random, hidden, out, 1 / Math.sqrt(hidden));
        float[] x = new float[rows * in];
        long[] classes = model.classification() ? new long[rows] : null;
        float[] values = model.classification() ? null : new float[rows];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < in; i++) {
                x[r * in + i] = (float) random.nextGaussian();
            }
            double[] scores = teacher(x, r * in, in, w1, w2);
            if (classes != null) {
                classes[r] = argmax(scores);
            } else {
                values[r] = (float) scores[0];
            }
        }
        int trainRows = (int) Math.round(rows * (1 - data.evalFraction()));
        return new TabularData(x, classes, values, in, trainRows, rows, data.seed());
    }

    @Override
    public TabularBatch trainBatch(long position, int rows) {
        return pick(new SplittableRandom(seed ^ (position * 0x9E3779B97F4A7C15L)), rows, 0, trainRows);
    }

    @Override
    public TabularBatch evalBatch(int index, int rows) {
        return pick(new SplittableRandom(~seed ^ (index * 0xC2B2AE3D27D4EB4FL)), rows, trainRows, totalRows);
    }

    private TabularBatch pick(SplittableRandom random, int rows, int from, int to) {
        float[] x = new float[rows * inputs];
        long[] c = classes == null ? null : new long[rows];
        float[] v = values == null ? null : new float[rows];
        for (int r = 0; r < rows; r++) {
            int row = from + random.nextInt(to - from);
            System.arraycopy(features, row * inputs, x, r * inputs, inputs);
            if (c != null) {
                c[r] = classes[row];
            } else {
                v[r] = values[row];
            }
        }
        return new TabularBatch(rows, inputs, x, c, v);
    }

    private static double[][] gaussianMatrix(SplittableRandom random, int rows, int cols, double scale) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int j = 0; j < cols; j++) {
                row[j] = random.nextGaussian() * scale;
            }
        }
        return m;
    }

    private static double[] teacher(float[] x, int offset, int in, double[][] w1, double[][] w2) {
        double[] h = new double[w1[0].length];
        for (int j = 0; j < h.length; j++) {
            double sum = 0;
            for (int i = 0; i < in; i++) {
                sum += x[offset + i] * w1[i][j];
            }
            h[j] = Math.tanh(2 * sum);
        }
        double[] out = new double[w2[0].length];
        for (int k = 0; k < out.length; k++) {
            for (int j = 0; j < h.length; j++) {
                out[k] += h[j] * w2[j][k];
            }
        }
        return out;
    }

    private static int argmax(double[] scores) {
        int best = 0;
        for (int k = 1; k < scores.length; k++) {
            if (scores[k] > scores[best]) {
                best = k;
            }
        }
        return best;
    }
}
