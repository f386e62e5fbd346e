package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.HostTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW for one pipeline stage whose optimizer state is sharded over the data-parallel processes (ZeRO stages 1
 * and 2). The stage's parameters are laid end to end in buckets of up to {@link ReplicaGroup#BUCKET_ELEMENTS}
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
 * <p>Each element is updated with the same operations as {@link AdamW} applies (the gradient slice is the
 * value an all-reduce would give, the update is element-wise); only the clipping norm is summed in another
 * order. Checkpoints stay unsharded: {@link #firstMomentsToHost()} gathers the slices on every process, and
 * {@link #load} takes this process's slice of the full moments, so a checkpoint moves between ZeRO stages and
 * process counts.
 */
final class ShardedAdamW {

    /** A parameter's place in a bucket. */
    private record Member(int parameter, long offset, long numel) {}

    /** The part of a parameter inside this process's slice: elements from {@code parameterOffset} on. */
    private record Segment(int parameter, long parameterOffset, long sliceOffset, long length) {}

    private static final class Bucket {
        final List<Member> members = new ArrayList<>();
        final List<Segment> segments = new ArrayList<>();
        long elements;
        long sliceLength;
        Tensor first;
        Tensor second;
        /** This step's slice of the averaged gradients; lives in the stage thread's step scope. */
        Tensor gradientSlice;

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

    ShardedAdamW(Map<String, Tensor> namedParameters, int zeroStage, ReplicaGroup replicas, int stageIndex) {
        this(namedParameters, zeroStage, replicas, stageIndex, name -> true);
    }

    /**
     * @param stageIndex the replica group's lane this stage's collectives use
     * @param countsInNorm whether a parameter's gradient counts in the global clipping norm here: under tensor
     *     parallelism a replicated parameter counts on tensor rank 0 only
     */
    ShardedAdamW(
            Map<String, Tensor> namedParameters,
            int zeroStage,
            ReplicaGroup replicas,
            int stageIndex,
            Predicate<String> countsInNorm) {
        this.zeroStage = zeroStage;
        this.replicas = replicas;
        this.stageIndex = stageIndex;
        namedParameters.forEach((name, p) -> {
            if (!p.is_contiguous()) {
                throw new IllegalStateException("parameter " + name + " is not contiguous; ZeRO packs parameters flat");
            }
            names.add(name);
            parameters.add(p);
        });
        this.hadGradient = new boolean[parameters.size()];
        this.countsInNorm = new boolean[parameters.size()];
        boolean all = true;
        for (int i = 0; i < names.size(); i++) {
            this.countsInNorm[i] = countsInNorm.test(names.get(i));
            all &= this.countsInNorm[i];
        }
        this.countsAll = all;
        layOut();
    }

    /** Cuts the parameters into buckets as {@link ReplicaGroup#averageAll} does and finds this process's slices. */
    private void layOut() {
        Bucket bucket = new Bucket();
        for (int i = 0; i < parameters.size(); i++) {
            long numel = parameters.get(i).numel();
            if (!bucket.members.isEmpty() && bucket.elements + numel > ReplicaGroup.BUCKET_ELEMENTS) {
                buckets.add(bucket);
                bucket = new Bucket();
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
     * Reduce-scatters the stage's gradients (in the stage thread's step scope) and returns the squared L2 norm of
     * the whole stage's averaged gradient, the same on every process. Afterwards the full gradient tensors are
     * zeroed (stage 1) or released (stage 2).
     */
    double reduceGradients() {
        double squares = 0;
        for (Bucket b : buckets) {
            Tensor packed = packGradients(b);
            b.gradientSlice = packed.new_zeros(b.sliceLength);
            replicas.reduceScatterMean(stageIndex, packed, b.gradientSlice);
            squares += countedSquares(b);
        }
        Tensors.withoutGrad(() -> {
            for (Tensor p : parameters) {
                Tensor g = p.grad();
                if (!g.defined()) {
                    continue;
                }
                if (zeroStage >= 2) {
                    p.mutable_grad().reset();
                } else {
                    g.zero_();
                }
            }
        });
        return replicas.sumValue(stageIndex, squares);
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
     * as {@link AdamW} skips the others), then all-gathers the slices into every process's parameters.
     */
    void step(long t, double learningRate, double weightDecay) {
        Tensors.withoutGrad(() -> {
            for (Bucket b : buckets) {
                for (Segment s : b.segments) {
                    if (!hadGradient[s.parameter()]) {
                        continue;
                    }
                    Tensor p = parameters.get(s.parameter());
                    AdamW.update(
                            p.view(-1).narrow(0, s.parameterOffset(), s.length()),
                            b.gradientSlice.narrow(0, s.sliceOffset(), s.length()),
                            b.first.narrow(0, s.sliceOffset(), s.length()),
                            b.second.narrow(0, s.sliceOffset(), s.length()),
                            t,
                            learningRate,
                            AdamW.decays(p) ? weightDecay : 0);
                }
                b.gradientSlice = null;
                gatherParameters(b);
            }
        });
    }

    private void gatherParameters(Bucket b) {
        Tensor slice = parameters.get(b.members.get(0).parameter()).new_zeros(b.sliceLength);
        for (Segment s : b.segments) {
            slice.narrow(0, s.sliceOffset(), s.length())
                    .copy_(parameters.get(s.parameter()).view(-1).narrow(0, s.parameterOffset(), s.length()));
        }
        Tensor full = slice.new_zeros(b.padded(replicas.processes()));
        replicas.allGather(stageIndex, slice, full);
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
            hadGradient[m.parameter()] = g.defined();
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
            Tensor slice = firstMoments ? b.first : b.second;
            Tensor full = slice.new_zeros(b.padded(replicas.processes()));
            replicas.allGather(stageIndex, slice, full);
            for (Member m : b.members) {
                Tensor p = parameters.get(m.parameter());
                host.add(Tensors.toHost(
                        names.get(m.parameter()),
                        full.narrow(0, m.offset(), m.numel()).view(Tensors.shape(p))));
            }
        }
        return host;
    }

    /** Takes this process's slice of unsharded moments (looked up by parameter name). */
    void load(Map<String, HostTensor> first, Map<String, HostTensor> second) {
        for (Bucket b : buckets) {
            for (Segment s : b.segments) {
                String name = names.get(s.parameter());
                copySlice(b.first, s, AdamW.require(first, name));
                copySlice(b.second, s, AdamW.require(second, name));
            }
        }
    }

    private void copySlice(Tensor moments, Segment s, HostTensor full) {
        Tensor p = parameters.get(s.parameter());
        if (full.data().length != p.numel()) {
            throw new IllegalArgumentException(full.name() + ": checkpoint has " + full.data().length
                    + " moment elements, the model's parameter " + p.numel());
        }
        float[] piece = java.util.Arrays.copyOfRange(
                full.data(), (int) s.parameterOffset(), (int) (s.parameterOffset() + s.length()));
        Tensors.withoutGrad(
                () -> moments.narrow(0, s.sliceOffset(), s.length()).copy_(Tensors.floats(piece, s.length())));
    }
}
