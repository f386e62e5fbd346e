package dev.trainyard.runner.engine;

import java.util.Arrays;

/** Sequences of byte tokens: {@code targets} is {@code inputs} shifted by one position. */
public record TokenBatch(int rows, int seqLen, long[] inputs, long[] targets) implements Batch {

    @Override
    public TokenBatch slice(int part, int parts) {
        return slice(part, 1, parts);
    }

    @Override
    public TokenBatch slice(int first, int count, int parts) {
        int size = rows / parts * count;
        int from = first * (rows / parts) * seqLen;
        int to = from + size * seqLen;
        return new TokenBatch(
                size, seqLen, Arrays.copyOfRange(inputs, from, to), Arrays.copyOfRange(targets, from, to));
    }

    @Override
    public long tokens() {
        return (long) rows * seqLen;
    }
}
