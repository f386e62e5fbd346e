package dev.trainyard.runner.engine;

import java.util.SplittableRandom;

/**
 * A byte stream cut into a training part and a held-out tail; batches are windows of {@code seqLen + 1}
 * bytes at offsets drawn from a generator seeded by (seed, position).
 */
public final class TokenCorpus implements TrainingData {

    private static final long EVAL_STREAM = 0x5eed_e7a1L;

    private final byte[] bytes;
    private final int trainEnd;
    private final int seqLen;
    private final long seed;

    private TokenCorpus(byte[] bytes, int trainEnd, int seqLen, long seed) {
        this.bytes = bytes;
        this.trainEnd = trainEnd;
        this.seqLen = seqLen;
        this.seed = seed;
    }

    /** A corpus over {@code bytes} with windows of the model's context length. */
    public static TokenCorpus of(byte[] bytes, int seqLen, double evalFraction, long seed) {
        int trainEnd = (int) Math.round(bytes.length * (1 - evalFraction));
        if (trainEnd < seqLen + 2 || bytes.length - trainEnd < seqLen + 2) {
            throw new SpecException("data: " + bytes.length + " bytes are too few for seqLen " + seqLen);
        }
        return new TokenCorpus(bytes, trainEnd, seqLen, seed);
    }

    @Override
    public TokenBatch trainBatch(long position, int rows) {
        return windows(new SplittableRandom(seed ^ (position * 0x9E3779B97F4A7C15L)), rows, 0, trainEnd);
    }

    @Override
    public TokenBatch evalBatch(int index, int rows) {
        return windows(
                new SplittableRandom(seed ^ EVAL_STREAM ^ (index * 0xC2B2AE3D27D4EB4FL)), rows, trainEnd, bytes.length);
    }

    @Override
    public double unigramBaselineLoss() {
        long[] counts = new long[256];
        for (int i = 0; i < trainEnd; i++) {
            counts[bytes[i] & 0xFF]++;
        }
        double entropy = 0;
        for (long count : counts) {
            if (count > 0) {
                double p = (double) count / trainEnd;
                entropy -= p * Math.log(p);
            }
        }
        return entropy;
    }

    private TokenBatch windows(SplittableRandom random, int rows, int from, int to) {
        long[] inputs = new long[rows * seqLen];
        long[] targets = new long[rows * seqLen];
        for (int r = 0; r < rows; r++) {
            int offset = from + random.nextInt(to - from - seqLen - 1);
            for (int t = 0; t < seqLen; t++) {
                inputs[r * seqLen + t] = bytes[offset + t] & 0xFF;
                targets[r * seqLen + t] = bytes[offset + t + 1] & 0xFF;
            }
        }
        return new TokenBatch(rows, seqLen, inputs, targets);
    }
}
