package dev.trainyard.runner.engine.torch;

/**
 * Context of one forward pass: training or evaluation, and the numbers dropout masks are seeded from, so a
 * recomputed forward draws exactly the masks of the original one, and a resumed run those of the
 * uninterrupted run.
 */
record ForwardPass(boolean training, long seed, long step, int microBatch) {

    static ForwardPass evaluation() {
        return new ForwardPass(false, 0, 0, 0);
    }

    long dropoutSeed(int block, int site) {
        long h = seed;
        h = h * 0x9E3779B97F4A7C15L + step;
        h = h * 0x9E3779B97F4A7C15L + microBatch;
        h = h * 0x9E3779B97F4A7C15L + block;
        h = h * 0x9E3779B97F4A7C15L + site;
        return h ^ (h >>> 31);
    }
}
