package dev.trainyard.runner.engine;

import java.util.Arrays;

/** Feature rows with a class label ({@code classes}) or a regression value ({@code values}). */
public record TabularBatch(int rows, int features, float[] inputs, long[] classes, float[] values) implements Batch {

    @Override
    public TabularBatch slice(int part, int parts) {
        return slice(part, 1, parts);
    }

    @Override
    public TabularBatch slice(int first, int count, int parts) {
        int size = rows / parts * count;
        int from = first * (rows / parts);
        return new TabularBatch(
                size,
                features,
                Arrays.copyOfRange(inputs, from * features, (from + size) * features),
                classes == null ? null : Arrays.copyOfRange(classes, from, from + size),
                values == null ? null : Arrays.copyOfRange(values, from, from + size));
    }

    @Override
    public long tokens() {
        return rows;
    }
}
