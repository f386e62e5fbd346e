package dev.trainyard.spec;

import java.util.List;

/**
 * Each stage's peak memory for a layout: fp32 parameters, gradients and two AdamW moments (16 bytes per
 * parameter), plus the larger of the activations the pipeline schedule keeps alive for backward and what the
 * optimizer phase after backward holds beyond that state ({@link #optimizerStepFloats}); with tensor parallelism, the
 * figures of one device of a stage's group. With ZeRO over d data-parallel ranks, each rank holds 1/d of the
 * moments (stage 1 and up); ZeRO 2's gradient saving is not counted, because the engine accumulates the stage's whole
 * gradient over the micro-batches and releases it only after the reduce-scatter, so at the peak (the end of
 * backward) the whole gradient is there. ZeRO 3 gathers parameters block by block (FSDP-style) and reduce-scatters
 * each block's gradients right after its backward, so a rank holds its 1/d of the parameters and gradients plus one
 * block's whole parameters and gradients at a time, and the next block's parameters being gathered: the blocks
 * counted whole are those of the stage's fullest moment (see {@code zeroThreeBlockPeak}). The engine checks
 * its plan with these figures, the API's dry run and submission check them against each runner's devices, and
 * {@link LayoutSearch} proposes layouts with them.
 */
public final class MemoryPlan {
    private static final int FLOAT_BYTES = 4;

    /**
     * Most elements the data-parallel exchange packs into one bucket (16 MiB of float32), the engine's bucket size:
     * a collective per bucket instead of per parameter, with one bucket's flat buffers alive at a time.
     */
    public static final long GRADIENT_BUCKET_ELEMENTS = 4L << 20;

    private MemoryPlan() {}

    /** How many micro-batches' activations stage {@code stage} of {@code stages} holds at most at once. */
    public static int maxInFlight(String schedule, int stage, int stages, int microBatches) {
        // GPipe runs every forward before any backward; 1F1B keeps at most the stages below this one busy.
        return "gpipe".equals(schedule) ? microBatches : Math.min(microBatches, stages - stage);
    }

    /** The estimate for one stage, holding {@code inFlight} micro-batches of {@code microBatchRows} rows. */
    public static MemoryEstimate stage(
            ModelLayout layout, StageRange range, int inFlight, int microBatchRows, boolean recompute) {
        return stage(layout, range, inFlight, microBatchRows, recompute, 0, 1);
    }

    /**
     * The estimate for one stage on a rank that shares its training state with {@code ranks} data-parallel ranks
     * at ZeRO stage {@code zero}, with no more than the in-flight micro-batches' stage boundaries counted (see the
     * overload that takes the step's micro-batch count).
     */
    public static MemoryEstimate stage(
            ModelLayout layout,
            StageRange range,
            int inFlight,
            int microBatchRows,
            boolean recompute,
            int zero,
            int ranks) {
        return stage(layout, range, inFlight, inFlight, microBatchRows, recompute, zero, ranks);
    }

    /**
     * The estimate for one stage of a step of {@code microBatches} micro-batches on a rank that shares its training
     * state with {@code ranks} data-parallel ranks at ZeRO stage {@code zero}: the moments it keeps (1 and up) are
     * its 1/ranks share, rounded up (the engine pads each bucket to a multiple of the ranks). Gradients count whole
     * below stage 3, and at stage 3 as the parameters: this rank's share plus the largest block whole (see the class
     * comment). Activations: what autograd saves for the micro-batches in flight (or,
     * recomputing, their stage inputs and one micro-batch's whole activations during its backward), plus the stage
     * boundaries the engine keeps until the step ends ({@link #boundaryFloatsPerSample}).
     */
    public static MemoryEstimate stage(
            ModelLayout layout,
            StageRange range,
            int inFlight,
            int microBatches,
            int microBatchRows,
            boolean recompute,
            int zero,
            int ranks) {
        List<BlockLayout> blocks = layout.blocks().subList(range.firstBlock(), range.endBlock());
        long params = blocks.stream().mapToLong(BlockLayout::parameters).sum();
        long fullPerSample = blocks.stream()
                .mapToLong(BlockLayout::activationFloatsPerSample)
                .sum();
        long inputPerSample = range.firstBlock() == 0
                ? 1
                : layout.blocks().get(range.firstBlock() - 1).outputFloatsPerSample();
        // With recomputation only stage inputs stay alive, plus one micro-batch's activations during backward and
        // its output computed again (a second copy of the one sent on, which the step keeps).
        long recomputedOutput = range.endBlock() == layout.blocks().size()
                ? 0
                : layout.blocks().get(range.endBlock() - 1).outputFloatsPerSample();
        long floats = recompute
                ? inFlight * inputPerSample * microBatchRows + (fullPerSample + recomputedOutput) * microBatchRows
                : inFlight * (fullPerSample + inputPerSample) * microBatchRows;
        floats += boundaryFloatsPerSample(layout, range, inFlight, microBatches) * microBatchRows;
        long p = params * FLOAT_BYTES;
        long shard = ceilDiv(params, Math.max(1, ranks)) * FLOAT_BYTES;
        // ZeRO 2 holds only its slice between steps, but the whole gradient during backward, which is the peak.
        long moments = 2 * (zero >= 1 ? shard : p);
        long stepFloats = optimizerStepFloats(blocks, zero, ranks)
                + stepEndBoundaryFloatsPerSample(layout, range, microBatches) * microBatchRows;
        if (zero >= 3 && ranks > 1) {
            long[] peak = zeroThreeBlockPeak(blocks, ranks);
            long gradients = shard + peak[1] * FLOAT_BYTES;
            return new MemoryEstimate(
                    shard + peak[0] * FLOAT_BYTES, gradients, moments, floats * FLOAT_BYTES, stepFloats * FLOAT_BYTES);
        }
        return new MemoryEstimate(p, p, moments, floats * FLOAT_BYTES, stepFloats * FLOAT_BYTES);
    }

    /**
     * The floats the optimizer phase of a stage with these blocks holds beyond its training state, from the end of
     * its last backward to the end of the step (the engine's {@code AdamW}, {@code ReplicaGroup} and {@code
     * ShardedAdamW}); the activations are gone by then, so the peak is the state plus the larger of the two.
     * <ul>
     *   <li>Unsharded AdamW (ZeRO 0, or a single process): each parameter's update makes one temporary of its size
     *       (the root of its second moment) in a scope of its own, so the largest tensor's. Before it, with d > 1, the all-reduce packs one bucket flat and Gloo's
     *       ring keeps scratch of about a quarter bucket beside it (measured at d = 2).
     *   <li>ZeRO 1 keeps this step's gradient slices (1/d of the gradient) beside the whole gradient until the step
     *       ends; each bucket's update (in a scope of its own) adds the temporaries and the packed copy of its
     *       parameter slice (1/d bucket each), the gathered bucket and Gloo's copy of it (a bucket each; the
     *       reduce-scatter before it, the packed gradients and the all-to-all's receive buffer, is the smaller peak).
     *   <li>ZeRO 2 releases each bucket's gradients after its reduce-scatter, so its peak is either the first
     *       bucket's reduce-scatter (the whole gradient still there, plus the packed bucket, the all-to-all's
     *       receive buffer of the same size, and the slice) or ZeRO 1's update less the released gradient.
     *   <li>ZeRO 3 reduced its gradients block by block during backward and updates only its slices: a bucket's
     *       slice of temporaries (the gathered block the state counts is released by then).
     * </ul>
     * Gradient clipping scales the gradients in place and computes one number per tensor: nothing to count.
     * NCCL on GPUs reduces in place, without Gloo's copies, so there the figures are high by about a bucket.
     */
    static long optimizerStepFloats(List<BlockLayout> blocks, int zero, int ranks) {
        long params = blocks.stream().mapToLong(BlockLayout::parameters).sum();
        if (zero == 0 || ranks <= 1) {
            long update =
                    blocks.stream().mapToLong(BlockLayout::largestTensor).max().orElse(0);
            if (ranks <= 1) {
                return update;
            }
            long bucket = largestBucket(blocks, false);
            return Math.max(update, bucket + bucket / 4);
        }
        long bucketSlice = ceilDiv(largestBucket(blocks, zero >= 3), ranks);
        if (zero >= 3) {
            return bucketSlice;
        }
        long bucket = bucketSlice * ranks;
        long update = ceilDiv(params, ranks) + 2 * bucketSlice + 2 * bucket;
        return zero == 1 ? update : Math.max(bucketSlice + 2 * bucket, update - params);
    }

    /**
     * The elements of the largest gradient bucket of a stage: buckets are filled in parameter order up to {@link
     * #GRADIENT_BUCKET_ELEMENTS}, and a tensor larger than that is a bucket of its own; at ZeRO 3 ({@code perBlock})
     * no bucket spans two blocks. An upper bound: where a bucket closes early because the next tensor does not fit,
     * it is smaller by at most that tensor.
     */
    static long largestBucket(List<BlockLayout> blocks, boolean perBlock) {
        long largestTensor =
                blocks.stream().mapToLong(BlockLayout::largestTensor).max().orElse(0);
        if (largestTensor >= GRADIENT_BUCKET_ELEMENTS) {
            return largestTensor;
        }
        long span = perBlock
                ? blocks.stream().mapToLong(BlockLayout::parameters).max().orElse(0)
                : blocks.stream().mapToLong(BlockLayout::parameters).sum();
        return Math.min(span, GRADIENT_BUCKET_ELEMENTS);
    }

    /**
     * The floats per sample of the stage boundaries alive when the step's last backward is done: all four kinds of
     * {@link #boundaryFloatsPerSample} for every micro-batch, kept in the step's memory scope through the update.
     */
    static long stepEndBoundaryFloatsPerSample(ModelLayout layout, StageRange range, int microBatches) {
        boolean first = range.firstBlock() == 0;
        boolean last = range.endBlock() == layout.blocks().size();
        long out = last ? 0 : layout.blocks().get(range.endBlock() - 1).outputFloatsPerSample();
        long in = first ? 0 : layout.blocks().get(range.firstBlock() - 1).outputFloatsPerSample();
        return microBatches * 2 * (out + in);
    }

    /**
     * The floats per sample of the stage boundaries that stay alive until the step ends, beyond the in-flight
     * micro-batches': the engine keeps what crosses a stage boundary in the step's memory scope, so a step's outputs
     * sent and gradients received (towards the next stage) and inputs received and gradients sent (towards the
     * previous one) all live until its last backward. Under GPipe the peak is the end of the forwards, where only
     * the outputs sent exist beside the in-flight activations (which hold the inputs); under 1F1B it comes with the
     * last micro-batches, when nearly all four kinds do.
     */
    static long boundaryFloatsPerSample(ModelLayout layout, StageRange range, int inFlight, int microBatches) {
        boolean first = range.firstBlock() == 0;
        boolean last = range.endBlock() == layout.blocks().size();
        long out = last ? 0 : layout.blocks().get(range.endBlock() - 1).outputFloatsPerSample();
        long in = first ? 0 : layout.blocks().get(range.firstBlock() - 1).outputFloatsPerSample();
        return inFlight >= microBatches ? microBatches * out : microBatches * 2 * (out + in);
    }

    /**
     * ZeRO 3: the parameters whole beyond the rank's share and the gradients whole, in floats, at the stage's peak,
     * which comes at the end of some block's backward: that block's parameters (less the rank's own share of them,
     * a view into the gathered block, not a second copy) and gradients (reduced into share-sized accumulators of
     * their own, so counted whole on top of the share), and the all-gather of the block before it, prefetched while
     * it runs, filling a whole buffer. Forward holds two neighbours' parameters and no whole gradients: less.
     */
    private static long[] zeroThreeBlockPeak(List<BlockLayout> blocks, int ranks) {
        long[] peak = {0, 0};
        for (int i = 0; i < blocks.size(); i++) {
            long block = blocks.get(i).parameters();
            long prefetched = i > 0 ? blocks.get(i - 1).parameters() : 0;
            long parameters = block - ceilDiv(block, ranks) + prefetched;
            if (parameters + block > peak[0] + peak[1]) {
                peak[0] = parameters;
                peak[1] = block;
            }
        }
        return peak;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /**
     * The estimate of every stage of a normalized spec's model cut into {@code stages} by parameter count (the
     * {@code params} balance; measured times are known only on the runner), or empty when only the model file
     * knows the layout or the model has fewer blocks than stages.
     */
    public static List<MemoryEstimate> perStage(JobSpec spec, int stages) {
        return oneReplicaPerProcess(spec).perStage(spec, stages);
    }

    /**
     * The estimate of every device of one data-parallel replica, in device order: stage s's tensor-parallel ranks
     * are devices s·t to s·t + t - 1, as the engine places them, each holding its 1/t of the split tensors and the
     * whole replicated ones. Empty as {@link #perStage} is.
     */
    public static List<MemoryEstimate> perDevice(JobSpec spec) {
        return oneReplicaPerProcess(spec).perDevice(spec);
    }

    /** The requested layout: one process per data-parallel replica. */
    private static ProcessLayout oneReplicaPerProcess(JobSpec spec) {
        return new ProcessLayout(Math.max(1, spec.parallelism().dataParallel()), 1);
    }

    /** The stage count of a normalized spec: the one it names, or what its devices give by default. */
    public static int stages(JobSpec spec) {
        ParallelismSpec p = spec.parallelism();
        if (p.stages() != null) {
            return p.stages();
        }
        return SpecDefaults.stages(spec.resources().gpus(), p.dataParallel(), p.tensorParallelOrDefault());
    }
}
