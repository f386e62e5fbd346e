package dev.trainyard.spec;

/**
 * Every default of the job spec, in one place: what a key left out of a document means, on the platform and in
 * the engine's offline {@code train} command alike. {@link JobSpecValidator} fills them in.
 */
public final class SpecDefaults {
    public static final String PRIORITY = "normal";
    public static final long MAX_RUNTIME_SECONDS = 86_400;
    public static final int MAX_RESTARTS = 3;

    public static final int GPT_VOCAB = 256;
    public static final double DROPOUT = 0.0;
    public static final String TASK = "classification";

    public static final double EVAL_FRACTION = 0.1;
    public static final long DATA_SEED = 0;
    public static final int SYNTHETIC_ROWS = 4096;

    public static final int BATCH_SIZE = 16;
    public static final double LEARNING_RATE = 1e-3;
    public static final double WEIGHT_DECAY = 0.01;
    public static final double GRAD_CLIP = 1.0;
    public static final long TRAINING_SEED = 0;
    public static final String PRECISION = "fp32";
    /**
     * A loss a hundred times the lowest so far, and above the untrained model's, is no batch-to-batch noise (that
     * stays within a few times the trend); requiring both keeps a minimum near zero, late in an easy task, from
     * making an ordinary batch look like a blow-up.
     */
    public static final double DIVERGENCE_FACTOR = 100;

    public static final int DATA_PARALLEL = 1;
    public static final int TENSOR_PARALLEL = 1;
    /** No ZeRO sharding: every data-parallel rank holds the whole optimizer state. */
    public static final int ZERO = 0;
    /** The highest ZeRO stage the engine implements: 3, parameters sharded between steps. */
    public static final int ZERO_IMPLEMENTED = 3;

    public static final int MICRO_BATCHES = 4;
    public static final String SCHEDULE = "1f1b";
    public static final String BALANCE = "time";

    public static final int KEEP_LAST = 3;

    private SpecDefaults() {}

    /** The final learning rate of the cosine decay: a tenth of the peak. */
    public static double minLearningRate(double learningRate) {
        return learningRate / 10;
    }

    /** Warmup: a tenth of the run, at most 100 steps. */
    public static int warmupSteps(long steps) {
        return (int) Math.min(100, steps / 10);
    }

    /** Evaluate ten times per run, at least every step. */
    public static int evalEvery(long steps) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, steps / 10));
    }

    /** Checkpoint four times per run, at least every step. */
    public static int checkpointEvery(long steps) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, steps / 4));
    }

    /** Pipeline stages when the spec names none: every device a replica is granted holds one stage. */
    public static int stages(int devicesGranted, int dataParallel) {
        return stages(devicesGranted, dataParallel, TENSOR_PARALLEL);
    }

    /** Pipeline stages when the spec names none: every t devices of a replica hold one tensor-parallel stage. */
    public static int stages(int devicesGranted, int dataParallel, int tensorParallel) {
        return Math.max(1, devicesGranted / dataParallel / tensorParallel);
    }
}
