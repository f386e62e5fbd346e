package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.HostTensor;
import dev.trainyard.runner.engine.TensorRegion;
import dev.trainyard.runner.engine.TensorSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW for one pipeline stage whose optimizer state is sharded over the data-parallel processes (ZeRO stages 1,
 * 2 and 3). The stage's parameters are laid end to end in buckets of up to {@link ReplicaGroup#BUCKET_ELEMENTS}
 * elements, each padded to a multiple of the process count n; process r owns slice r of every bucket and keeps
 * AdamW moments for that slice only. A step reduce-scatters the packed gradients (each process receives the
 * replicas' mean of its slice), clips by the global norm (the squared norms of the slices, summed over the
 * processes), updates its slice of the parameters in place and all-gathers the updated slices into every
 * process's full parameters.
 *
 * <p>Stage 1 keeps each parameter's full gradient tensor allocated between steps (zeroed, as unsharded AdamW
 * does); stage 2 releases it after the reduce-scatter, so between steps a process holds only its slice of the
 * averaged gradients. Backward still accumulates a stage's full gradients before they are reduced.
 *
 * <p>Stage 3 also keeps only its slice of the parameters between steps, and gathers them FSDP-style, one block
 * at a time: no bucket spans two of the stage's blocks, every parameter is resized to zero elements, and {@link
 * #gatherBlock} all-gathers one block's whole parameters just before that block runs; {@link #releaseBlock} drops
 * them again right after. In backward {@link #reduceBlockGradients} reduce-scatters the block's gradients into the
 * slices as soon as its backward is done, one micro-batch at a time, and drops the full gradients: the slices
 * accumulate the micro-batches' sum. The update writes the slices only.
 *
 * <p>Each element is updated with the same operations as {@link AdamW} applies (the gradient slice is the
 * value an all-reduce would give, the update is element-wise); only the clipping norm is summed in another
 * order. A sharded checkpoint takes each process's own slices ({@link #ownedSlices()}, no collective); the
 * export and whole checkpoints gather them ({@link #firstMomentsToHost()}); {@link #load} takes this process's
 * slice of the full moments, so a checkpoint moves between ZeRO stages and process counts.
 */
final class ShardedAdamW {

    /** A parameter's place in a bucket. */
    private record Member(int parameter, long offset, long numel) {}

    /** The part of a parameter inside this process's slice: elements from {@code parameterOffset} on. */
    private record Segment(int parameter, long parameterOffset, long sliceOffset, long length) {}

    /** Stage 3: a bucket's all-gather in flight into {@code full}, whose Java handle is retained until it is awaited. */
    private record BucketGather(Bucket bucket, Tensor full, ReplicaGroup.Pending gather) {}

    /**
     * Stage 3: a bucket's gradients, packed (their own tensors already dropped), being reduce-scattered into {@code
     * part} (the slice itself for the step's first micro-batch, else a slice-sized tensor added in once done).
     */
    private record BucketReduction(Bucket bucket, Tensor packed, Tensor part, ReplicaGroup.Pending reduction) {}

    private static final class Bucket {
        /** At stage 3, the stage's block whose parameters fill this bucket (0 below stage 3, where buckets span blocks). */
        final int block;

        final List<Member> members = new ArrayList<>();
        final List<Segment> segments = new ArrayList<>();
        long elements;
        long sliceLength;
        Tensor first;
        Tensor second;
        /** This step's slice of the averaged gradients; lives in the stage thread's step scope. */
        Tensor gradientSlice;
        /**
         * Stage 3: this process's slice of the parameters, the only copy it keeps between steps. While they are
         * gathered it is a view into the gathered bucket (so the gathered stage costs no more than whole
         * parameters); released, a tensor of its own. Its Java handle is retained across the step scopes.
         */
        Tensor parameterSlice;
        /** Stage 3: whether a micro-batch's gradients were reduced into {@link #gradientSlice} this step. */
        boolean reduced;

        Bucket(int block) {
            this.block = block;
        }

        long padded(int processes) {
            return sliceLength * processes;
        }
    }

    private final int zeroStage;
    private final ReplicaGroup replicas;
    private final int stageIndex;
    private final List<String> names = new ArrayList<>();
    private final List<Tensor> parameters = new ArrayList<>();
    private final List<Bucket> buckets = new ArrayList<>();
    private final boolean[] hadGradient;
    /** Which parameters' gradients this stage counts in the global norm (a tensor rank above 0 skips whole ones). */
    private final boolean[] countsInNorm;

    private final boolean countsAll;

    /** Stage 3: parameters live as slices between steps (see {@link #gatherBlock}). */
    private final boolean shardsParameters;
    /** The index of the stage's block each parameter belongs to. */
    private final List<Integer> blockOf = new ArrayList<>();
    /** Each parameter's shape and whether AdamW decays it, kept because a released parameter has neither. */
    private final List<long[]> shapes = new ArrayList<>();

    private final List<Boolean> decays = new ArrayList<>();
    /** Per block: whether its full parameters exist now (always below stage 3). */
    private final boolean[] gathered;
    /** Stage 3: the all-gathers started ahead for a block ({@link #prefetchBlock}) and not yet awaited, by block. */
    private final Map<Integer, List<BucketGather>> prefetched = new java.util.HashMap<>();
    /** Stage 3: the reduce-scatters of a block's gradients started and not yet awaited (one block's at most). */
    private final List<BucketReduction> reducing = new ArrayList<>();
    /** Stage 3, this step: the most bytes of full parameters that existed at once. */
    private long peakWholeParameterBytes;
    /** Stage 3, this step: the most bytes of training state held at once, sampled after each block's backward. */
    private long peakStateBytes;
    /**
     * Stages 1 and 2, this step: the flat bucket buffers the collectives used whose Java handles are still open
     * (a closed handle reads as null), to measure how many of them are alive at once.
     */
    private final List<Tensor> flatBuffers = new ArrayList<>();
    /** Stages 1 and 2, this step: the most bytes of flat bucket buffers alive at once. */
    private long peakFlatBufferBytes;
    /** Stages 1 and 2, this step: the most bytes of full gradients and gradient slices held at once. */
    private long peakGradientBytes;

    ShardedAdamW(Map<String, Tensor> namedParameters, int zeroStage, ReplicaGroup replicas, int stageIndex) {
        this(List.of(namedParameters), zeroStage, replicas, stageIndex, name -> true);
    }

    /**
     * @param blocks each of the stage's blocks' parameters by name, in block order
     * @param stageIndex the replica group's lane this stage's collectives use
     * @param countsInNorm whether a parameter's gradient counts in the global clipping norm here: under tensor
     *     parallelism a replicated parameter counts on tensor rank 0 only
     */
    ShardedAdamW(
            List<Map<String, Tensor>> blocks,
            int zeroStage,
            ReplicaGroup replicas,
            int stageIndex,
            Predicate<String> countsInNorm) {
        this.zeroStage = zeroStage;
        this.replicas = replicas;
        this.stageIndex = stageIndex;
        for (int block = 0; block < blocks.size(); block++) {
            int index = block;
            blocks.get(block).forEach((name, p) -> {
                if (!p.is_contiguous()) {
                    throw new IllegalStateException(
                            "parameter " + name + " is not contiguous; ZeRO packs parameters flat");
                }
                names.add(name);
                parameters.add(p);
                blockOf.add(index);
                shapes.add(Tensors.shape(p));
                decays.add(AdamW.decays(p));
            });
        }
        this.shardsParameters = zeroStage >= 3;
        this.gathered = new boolean[blocks.size()];
        java.util.Arrays.fill(gathered, true);
        this.hadGradient = new boolean[parameters.size()];
        this.countsInNorm = new boolean[parameters.size()];
        boolean all = true;
        for (int i = 0; i < names.size(); i++) {
            this.countsInNorm[i] = countsInNorm.test(names.get(i));
            all &= this.countsInNorm[i];
        }
        this.countsAll = all;
        layOut();
        if (shardsParameters) {
            keepSlicesAndRelease();
        }
    }

    /**
     * Cuts the parameters into buckets as {@link ReplicaGroup#averageAll} does, at stage 3 also at every block's
     * start (so that a block is gathered without its neighbours), and finds this process's slices.
     */
    private void layOut() {
        Bucket bucket = new Bucket(0);
        for (int i = 0; i < parameters.size(); i++) {
            long numel = parameters.get(i).numel();
            int block = shardsParameters ? blockOf.get(i) : 0;
            if (!bucket.members.isEmpty()
                    && (bucket.elements + numel > ReplicaGroup.BUCKET_ELEMENTS || block != bucket.block)) {
                buckets.add(bucket);
                bucket = new Bucket(block);
            } else if (bucket.members.isEmpty()) {
                bucket = new Bucket(block);
            }
            bucket.members.add(new Member(i, bucket.elements, numel));
            bucket.elements += numel;
        }
        if (!bucket.members.isEmpty()) {
            buckets.add(bucket);
        }
        int processes = replicas.processes();
        for (Bucket b : buckets) {
            b.sliceLength = (b.elements + processes - 1) / processes;
            long start = b.sliceLength * replicas.rank();
            long end = start + b.sliceLength;
            for (Member m : b.members) {
                long from = Math.max(start, m.offset());
                long to = Math.min(end, m.offset() + m.numel());
                if (from < to) {
                    b.segments.add(new Segment(m.parameter(), from - m.offset(), from - start, to - from));
                }
            }
            Tensor any = parameters.get(b.members.get(0).parameter());
            b.first = any.new_zeros(b.sliceLength);
            b.second = any.new_zeros(b.sliceLength);
        }
    }

    /**
     * Reduce-scatters the stage's gradients bucket by bucket (the slices in the stage thread's step scope) and
     * returns the squared L2 norm of the whole stage's averaged gradient, the same on every process. Afterwards the
     * full gradient tensors are zeroed (stage 1) or released (stage 2).
     */
    double reduceGradients() {
        java.util.Arrays.fill(hadGradient, false);
        flatBuffers.clear();
        peakFlatBufferBytes = 0;
        peakGradientBytes = 0;
        double squares = 0;
        for (Bucket b : buckets) {
            // the slice outlives the bucket's own scope: it lives in the step's until the update
            b.gradientSlice = parameters.get(b.members.get(0).parameter()).new_zeros(b.sliceLength);
            squares += reduceBucket(b);
        }
        return replicas.sumValue(stageIndex, squares);
    }

    /**
     * Reduce-scatters one bucket's packed gradients into its slice, zeroes (stage 1) or releases (stage 2) the
     * bucket's full gradients and returns the slice's counted squares. The packed copy and the gradient handles
     * taken here die with the bucket's scope, before the next bucket is packed: kept to the step's end, the copies
     * of every bucket added a whole gradient to the step's peak, and the handles kept stage 2's released gradients
     * alive. Releasing bucket by bucket, stage 2 never holds more than the whole gradient plus one bucket's slice.
     */
    private double reduceBucket(Bucket b) {
        try (PointerScope scope = new PointerScope()) {
            Tensor packed = flatBuffer(packGradients(b));
            replicas.reduceScatterMean(stageIndex, packed, b.gradientSlice);
            sampleFlatBuffers();
            peakGradientBytes = Math.max(peakGradientBytes, gradientBytes());
            Tensors.withoutGrad(() -> b.members.forEach(m -> clearGradient(parameters.get(m.parameter()))));
            return countedSquares(b);
        }
    }

    private void clearGradient(Tensor p) {
        Tensor g = p.grad();
        if (!g.defined()) {
            return;
        }
        if (zeroStage >= 2) {
            p.mutable_grad().reset();
        } else {
            g.zero_();
        }
    }

    /** Notes a flat bucket buffer of this step, for {@link #peakFlatBufferBytes()}. */
    private Tensor flatBuffer(Tensor buffer) {
        flatBuffers.add(buffer);
        return buffer;
    }

    /** Notes the bytes of the flat bucket buffers whose handles are still open (called while a bucket's are). */
    private void sampleFlatBuffers() {
        flatBuffers.removeIf(buffer -> buffer.isNull());
        peakFlatBufferBytes = Math.max(
                peakFlatBufferBytes,
                flatBuffers.stream().mapToLong(Tensor::nbytes).sum());
    }

    /**
     * Stages 1 and 2: the most bytes of flat bucket buffers (packed gradients, gathered parameters) alive at once
     * during the last step, measured from their tensors.
     */
    long peakFlatBufferBytes() {
        return peakFlatBufferBytes;
    }

    /**
     * Stages 1 and 2: the most bytes of full gradients and gradient slices held at once while the last step's
     * gradients were reduced, sampled after each bucket's reduce-scatter.
     */
    long peakGradientBytes() {
        return peakGradientBytes;
    }

    /**
     * The squared norm of the bucket's gradient slice over the parameters counted here: the whole slice (padding
     * is zeros) when all count, else segment by segment.
     */
    private double countedSquares(Bucket b) {
        if (countsAll) {
            double norm = b.gradientSlice.norm().item_double();
            return norm * norm;
        }
        double squares = 0;
        for (Segment s : b.segments) {
            if (countsInNorm[s.parameter()]) {
                double norm = b.gradientSlice
                        .narrow(0, s.sliceOffset(), s.length())
                        .norm()
                        .item_double();
                squares += norm * norm;
            }
        }
        return squares;
    }

    /** Scales this step's gradient slices (clipping). */
    void scaleGradients(double factor) {
        Tensors.withoutGrad(() -> buckets.forEach(b -> b.gradientSlice.mul_(new Scalar(factor))));
    }

    /**
     * Applies update {@code t} to this process's slice of the parameters (those that had a gradient this step,
     * as {@link AdamW} skips the others), then all-gathers the slices into every process's parameters; at stage
     * 3 updates the kept slices only (each block was released after its backward; any still gathered is released).
     */
    void step(long t, double learningRate, double weightDecay) {
        Tensors.withoutGrad(() -> {
            for (Bucket b : buckets) {
                // the update's temporaries and the gathered bucket die before the next bucket's are made
                try (PointerScope scope = new PointerScope()) {
                    updateSlice(b, t, learningRate, weightDecay);
                    if (!shardsParameters) {
                        gatherParameters(b);
                    }
                }
                b.gradientSlice = null;
            }
        });
        if (shardsParameters) {
            releaseParameters();
        }
    }

    private void updateSlice(Bucket b, long t, double learningRate, double weightDecay) {
        for (Segment s : b.segments) {
            if (!hadGradient[s.parameter()]) {
                continue;
            }
            Tensor target = shardsParameters
                    ? b.parameterSlice.narrow(0, s.sliceOffset(), s.length())
                    : parameters.get(s.parameter()).view(-1).narrow(0, s.parameterOffset(), s.length());
            AdamW.update(
                    target,
                    b.gradientSlice.narrow(0, s.sliceOffset(), s.length()),
                    b.first.narrow(0, s.sliceOffset(), s.length()),
                    b.second.narrow(0, s.sliceOffset(), s.length()),
                    t,
                    learningRate,
                    decays.get(s.parameter()) ? weightDecay : 0);
        }
    }

    /** Whether parameters are kept as slices between steps (ZeRO 3). */
    boolean shardsParameters() {
        return shardsParameters;
    }

    /**
     * Stage 3, at a step's start (in the stage thread's step scope): zeroed gradient slices for the micro-batches'
     * gradients to be reduced into, and the step's peaks reset.
     */
    void beginStep() {
        java.util.Arrays.fill(hadGradient, false);
        for (Bucket b : buckets) {
            b.gradientSlice = b.parameterSlice.new_zeros(b.sliceLength);
            b.reduced = false;
        }
        peakWholeParameterBytes = 0;
        peakStateBytes = 0;
    }

    /**
     * Stage 3: all-gathers block {@code block}'s slices (or waits for the all-gathers {@link #prefetchBlock} started)
     * and points each of its parameters at its part of the gathered buckets (a collective: every process of the lane
     * calls it in the same order). Java handles on the gathered buckets belong to the caller's scope, which must
     * close after {@link #releaseBlock} for the memory to go.
     */
    void gatherBlock(int block) {
        if (!shardsParameters || gathered[block]) {
            return;
        }
        List<BucketGather> gathers = prefetched.remove(block);
        List<BucketGather> inFlight = gathers != null ? gathers : startGathers(block);
        Tensors.withoutGrad(() -> {
            for (BucketGather g : inFlight) {
                replicas.await(g.gather());
                Bucket b = g.bucket();
                for (Member m : b.members) {
                    parameters
                            .get(m.parameter())
                            .__dispatch_set_data(
                                    g.full().narrow(0, m.offset(), m.numel()).view(shapes.get(m.parameter())));
                }
                // the slice becomes a view into the gathered bucket: a gathered block costs no more than whole
                replaceSlice(b, g.full().narrow(0, b.sliceLength * replicas.rank(), b.sliceLength));
                g.full().releaseReference(); // the parameters' and the slice's views hold the storage now
            }
        });
        gathered[block] = true;
        notePeakWholeParameters();
    }

    /**
     * Stage 3: starts all-gathering block {@code block}'s slices without waiting, for {@link #gatherBlock} to take
     * up later, so that the transfer runs while the caller computes another block; nothing when the block is
     * gathered or being gathered already, or out of range. Its buffers count as whole parameters from now on.
     */
    void prefetchBlock(int block) {
        if (!shardsParameters
                || block < 0
                || block >= gathered.length
                || gathered[block]
                || prefetched.containsKey(block)) {
            return;
        }
        prefetched.put(block, startGathers(block));
        notePeakWholeParameters();
    }

    private List<BucketGather> startGathers(int block) {
        List<BucketGather> gathers = new ArrayList<>();
        for (Bucket b : blockBuckets(block)) {
            // every element is written by the all-gather; the handle outlives the caller's scope until awaited
            Tensor full = b.parameterSlice.new_empty(b.padded(replicas.processes()));
            full.retainReference();
            gathers.add(new BucketGather(b, full, replicas.startAllGather(stageIndex, b.parameterSlice, full)));
        }
        return gathers;
    }

    /** Bytes of full parameters now: the gathered blocks' and the buffers of all-gathers in flight. */
    private long wholeParameterBytesNow() {
        long bytes = parameters.stream().mapToLong(Tensor::nbytes).sum();
        for (List<BucketGather> gathers : prefetched.values()) {
            bytes += gathers.stream().mapToLong(g -> g.full().nbytes()).sum();
        }
        return bytes;
    }

    private void notePeakWholeParameters() {
        peakWholeParameterBytes = Math.max(peakWholeParameterBytes, wholeParameterBytesNow());
    }

    /**
     * Stage 3: keeps a copy of block {@code block}'s slices and resizes its parameters to zero elements, so that
     * its gathered buckets are referenced by nothing but the caller's scope's handles.
     */
    void releaseBlock(int block) {
        if (!shardsParameters || !gathered[block]) {
            return;
        }
        Tensors.withoutGrad(() -> {
            for (Bucket b : blockBuckets(block)) {
                replaceSlice(b, b.parameterSlice.clone());
            }
            for (int i = 0; i < parameters.size(); i++) {
                if (blockOf.get(i) == block) {
                    Tensor p = parameters.get(i);
                    p.__dispatch_set_data(p.new_empty(0L));
                }
            }
        });
        gathered[block] = false;
    }

    /** Stage 3: releases every gathered block (after loading a checkpoint or saving a TorchScript module). */
    void releaseParameters() {
        for (int block = 0; block < gathered.length; block++) {
            releaseBlock(block);
        }
    }

    /**
     * Stage 3, after one micro-batch's backward through block {@code block}: packs the block's gradients, drops
     * them and starts reduce-scattering the packed copy (a collective), without waiting: the reduction runs while
     * the caller gathers and recomputes the next block, and {@link #awaitGradientReductions} adds this process's
     * slice of their mean over the replicas to the step's gradient slices. The first micro-batch's is received into the slice
     * itself, so that with one micro-batch the slice is bitwise ZeRO 2's (with two processes).
     */
    void reduceBlockGradients(int block) {
        awaitGradientReductions();
        Tensors.withoutGrad(() -> {
            for (Bucket b : blockBuckets(block)) {
                Tensor packed = packGradients(b);
                for (Member m : b.members) {
                    parameters.get(m.parameter()).mutable_grad().reset();
                }
                Tensor part = b.reduced ? packed.new_empty(b.sliceLength) : b.gradientSlice;
                // both outlive the caller's scope until awaited
                packed.retainReference();
                part.retainReference();
                reducing.add(new BucketReduction(
                        b, packed, part, replicas.startReduceScatterMean(stageIndex, packed, part)));
            }
        });
    }

    /**
     * Stage 3: waits for the reduce-scatters {@link #reduceBlockGradients} started and adds them into the step's
     * gradient slices. Called before the next block's backward makes its gradients, so that a packed copy in flight
     * and a block's whole gradients never exist at once (the memory plan counts one block's gradients whole), and
     * after the step's last backward.
     */
    void awaitGradientReductions() {
        Tensors.withoutGrad(() -> {
            for (BucketReduction r : reducing) {
                replicas.await(r.reduction());
                Bucket b = r.bucket();
                if (b.reduced) {
                    b.gradientSlice.add_(r.part());
                }
                b.reduced = true;
                r.packed().releaseReference();
                r.part().releaseReference();
            }
        });
        reducing.clear();
    }

    /** Bytes of packed gradients whose reduce-scatter is in flight. */
    private long reducingBytes() {
        return reducing.stream().mapToLong(r -> r.packed().nbytes()).sum();
    }

    /**
     * Stage 3, after the step's last backward: the squared L2 norm of the stage's averaged gradient over all the
     * processes' slices (the same on every process; a collective).
     */
    double gradientSquares() {
        awaitGradientReductions();
        double squares = 0;
        for (Bucket b : buckets) {
            squares += countedSquares(b);
        }
        return replicas.sumValue(stageIndex, squares);
    }

    /**
     * Stage 3: notes the training state held now (called while a block's full parameters and gradients exist,
     * before they are reduced), so that {@link #peakStateBytes()} is the step's peak, measured from the tensors.
     */
    void sampleHeldBytes() {
        long bytes =
                stateBytes() + parameterSliceBytes() + gradientBytes() + wholeParameterBytesNow() + reducingBytes();
        peakStateBytes = Math.max(peakStateBytes, bytes);
    }

    /** Bytes of the full gradients that exist now and of this step's gradient slices. */
    private long gradientBytes() {
        long bytes = 0;
        for (Tensor p : parameters) {
            Tensor g = p.grad();
            if (g.defined()) {
                bytes += g.nbytes();
            }
        }
        for (Bucket b : buckets) {
            bytes += b.gradientSlice == null ? 0 : b.gradientSlice.nbytes();
        }
        return bytes;
    }

    /** Stage 3: the most bytes of training state this stage's tensors held at once during the last step. */
    long peakStateBytes() {
        return peakStateBytes;
    }

    /** Stage 3: the most bytes of full parameters that existed at once during the last step (one block's). */
    long peakWholeParameterBytes() {
        return peakWholeParameterBytes;
    }

    private List<Bucket> blockBuckets(int block) {
        return buckets.stream().filter(b -> b.block == block).toList();
    }

    /**
     * Stage 3, outside a step: gives every parameter fresh full storage of its shape (contents undefined), for a
     * checkpoint to be loaded into; {@link #load} then takes the slices and releases them again. Not a collective.
     */
    void materializeParameters() {
        if (!shardsParameters) {
            return;
        }
        Tensors.withoutGrad(() -> {
            for (int i = 0; i < parameters.size(); i++) {
                Tensor p = parameters.get(i);
                if (!gathered[blockOf.get(i)]) {
                    p.__dispatch_set_data(p.new_zeros(shapes.get(i)));
                }
            }
        });
        java.util.Arrays.fill(gathered, true);
    }

    /** Stage 3: copies this process's slices out of the full parameters, then releases them. */
    private void keepSlicesAndRelease() {
        Tensors.withoutGrad(() -> {
            for (Bucket b : buckets) {
                replaceSlice(b, packSlice(b));
            }
        });
        releaseParameters();
    }

    /** Swaps the bucket's parameter slice, holding the new one's Java handle beyond the current scope. */
    private static void replaceSlice(Bucket b, Tensor slice) {
        slice.retainReference();
        if (b.parameterSlice != null) {
            b.parameterSlice.releaseReference();
        }
        b.parameterSlice = slice;
    }

    /** This process's slice of the bucket's full parameters (zeros where it covers padding). */
    private Tensor packSlice(Bucket b) {
        Tensor slice = parameters.get(b.members.get(0).parameter()).new_zeros(b.sliceLength);
        for (Segment s : b.segments) {
            slice.narrow(0, s.sliceOffset(), s.length())
                    .copy_(parameters.get(s.parameter()).view(-1).narrow(0, s.parameterOffset(), s.length()));
        }
        return slice;
    }

    /** Bytes of parameter slices this process keeps apart from the full parameters (stage 3, released). */
    long parameterSliceBytes() {
        if (!shardsParameters) {
            return 0;
        }
        return buckets.stream()
                .filter(b -> !gathered[b.block])
                .mapToLong(b -> b.parameterSlice.nbytes())
                .sum();
    }

    /**
     * Every parameter's full value: at stage 3 gathered from the slices (a collective every process calls; between
     * steps every block is released), else read from the parameters themselves.
     */
    List<HostTensor> parametersToHost() {
        List<HostTensor> host = new ArrayList<>();
        if (!shardsParameters) {
            for (int i = 0; i < parameters.size(); i++) {
                host.add(Tensors.toHost(names.get(i), parameters.get(i)));
            }
            return host;
        }
        for (Bucket b : buckets) {
            host.addAll(gatheredToHost(b, b.parameterSlice));
        }
        return host;
    }

    /** All-gathers the bucket's updated slices into the full parameters (in the caller's per-bucket scope). */
    private void gatherParameters(Bucket b) {
        Tensor slice = flatBuffer(packSlice(b));
        Tensor full = flatBuffer(slice.new_zeros(b.padded(replicas.processes())));
        replicas.allGather(stageIndex, slice, full);
        sampleFlatBuffers();
        for (Member m : b.members) {
            parameters.get(m.parameter()).view(-1).copy_(full.narrow(0, m.offset(), m.numel()));
        }
    }

    /**
     * The bucket's gradients end to end, padded with zeros to n slices; a parameter without a gradient (noted, so
     * that it is not updated) contributes zeros.
     */
    private Tensor packGradients(Bucket b) {
        TensorVector pieces = new TensorVector();
        for (Member m : b.members) {
            Tensor p = parameters.get(m.parameter());
            Tensor g = p.grad();
            hadGradient[m.parameter()] |= g.defined();
            pieces.push_back(g.defined() ? g.reshape(-1) : p.new_zeros(p.numel()));
        }
        long padding = b.padded(replicas.processes()) - b.elements;
        if (padding > 0) {
            pieces.push_back(parameters.get(b.members.get(0).parameter()).new_zeros(padding));
        }
        return torch.cat(pieces, 0);
    }

    /** Bytes of the moment slices this process holds. */
    long stateBytes() {
        long bytes = 0;
        for (Bucket b : buckets) {
            bytes += b.first.nbytes() + b.second.nbytes();
        }
        return bytes;
    }

    /** Every parameter's full first moment, gathered from all processes (a collective: every process calls it). */
    List<HostTensor> firstMomentsToHost() {
        return gatherToHost(true);
    }

    /** Every parameter's full second moment, gathered from all processes (a collective). */
    List<HostTensor> secondMomentsToHost() {
        return gatherToHost(false);
    }

    private List<HostTensor> gatherToHost(boolean firstMoments) {
        List<HostTensor> host = new ArrayList<>();
        for (Bucket b : buckets) {
            host.addAll(gatheredToHost(b, firstMoments ? b.first : b.second));
        }
        return host;
    }

    /** The bucket's slices of some per-element state, all-gathered and cut into whole tensors by parameter. */
    private List<HostTensor> gatheredToHost(Bucket b, Tensor slice) {
        List<HostTensor> host = new ArrayList<>();
        // the gathered bucket is copied to the heap, so it need not outlive this bucket
        try (PointerScope scope = new PointerScope()) {
            Tensor full = slice.new_zeros(b.padded(replicas.processes()));
            replicas.allGather(stageIndex, slice, full);
            for (Member m : b.members) {
                host.add(Tensors.toHost(
                        names.get(m.parameter()),
                        full.narrow(0, m.offset(), m.numel()).view(shapes.get(m.parameter()))));
            }
        }
        return host;
    }

    /**
     * A run of one parameter's flat elements that this process owns, from element {@code from} on, with the
     * parameter's and both moments' values there: what it writes to a sharded checkpoint, with no collective.
     */
    record OwnedSlice(String name, long[] shape, long from, float[] parameter, float[] first, float[] second) {}

    /** This process's slices of every bucket, parameter by parameter (padding left out). */
    List<OwnedSlice> ownedSlices() {
        List<OwnedSlice> owned = new ArrayList<>();
        for (Bucket b : buckets) {
            for (Segment s : b.segments) {
                Tensor values = shardsParameters && !gathered[b.block]
                        ? b.parameterSlice.narrow(0, s.sliceOffset(), s.length())
                        : parameters.get(s.parameter()).view(-1).narrow(0, s.parameterOffset(), s.length());
                String name = names.get(s.parameter());
                owned.add(new OwnedSlice(
                        name,
                        shapes.get(s.parameter()),
                        s.parameterOffset(),
                        Tensors.toHost(name, values).data(),
                        Tensors.toHost(name, b.first.narrow(0, s.sliceOffset(), s.length()))
                                .data(),
                        Tensors.toHost(name, b.second.narrow(0, s.sliceOffset(), s.length()))
                                .data()));
            }
        }
        return owned;
    }

    /**
     * Takes this process's slice of the moments from a checkpoint (looked up by parameter name), reading only its
     * runs of their elements.
     */
    void load(TensorSource first, TensorSource second) {
        for (Bucket b : buckets) {
            for (Segment s : b.segments) {
                String name = names.get(s.parameter());
                Tensor firstRun = Tensors.floats(readRun(first, s, name), s.length());
                Tensor secondRun = Tensors.floats(readRun(second, s, name), s.length());
                Tensors.withoutGrad(() -> {
                    b.first.narrow(0, s.sliceOffset(), s.length()).copy_(firstRun);
                    b.second.narrow(0, s.sliceOffset(), s.length()).copy_(secondRun);
                });
            }
        }
    }

    /**
     * Stage 3: reads this process's slices of the parameters from a checkpoint (only their elements) as its kept
     * slices, and releases any whole parameters: restoring never holds a whole parameter.
     */
    void loadParameterSlices(TensorSource params) {
        Tensors.withoutGrad(() -> {
            for (Bucket b : buckets) {
                Tensor slice = parameters.get(b.members.get(0).parameter()).new_zeros(b.sliceLength);
                for (Segment s : b.segments) {
                    Tensor run = Tensors.floats(readRun(params, s, names.get(s.parameter())), s.length());
                    slice.narrow(0, s.sliceOffset(), s.length()).copy_(run);
                }
                replaceSlice(b, slice);
            }
        });
        releaseParameters();
    }

    /** This process's run of a checkpoint tensor's elements for segment {@code s}; refused if the sizes differ. */
    private float[] readRun(TensorSource source, Segment s, String name) {
        long numel = 1;
        for (long d : shapes.get(s.parameter())) {
            numel *= d;
        }
        long[] saved = source.shape(name);
        if (saved == null) {
            throw new IllegalArgumentException("checkpoint has no tensor for parameter " + name);
        }
        if (TensorRegion.whole(saved).elements() != numel) {
            throw new IllegalArgumentException(name + ": checkpoint has "
                    + TensorRegion.whole(saved).elements() + " elements, the model's parameter " + numel);
        }
        return source.readFlat(name, s.parameterOffset(), (int) s.length());
    }
}
