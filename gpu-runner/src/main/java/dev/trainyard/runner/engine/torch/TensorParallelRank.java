package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.CollectiveGroup;
import dev.trainyard.runner.engine.CollectiveGroup.Reduction;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;

/**
 * One device's place in a tensor-parallel group (Megatron-style), with the two conjugate operations that
 * bracket each split region of a block: {@link #enter} (identity forward, all-reduce of the gradient in backward:
 * every rank's branch contributes to the input's gradient) and {@link #leave} (all-reduce forward, identity
 * backward: the ranks' partial outputs are summed). A block's forward thus costs one all-reduce per split region,
 * and its backward one more.
 *
 * <p>The backward all-reduce runs in a tensor hook. JavaCPP callbacks are a scarce native resource, so there is
 * one hook for the process, which finds the calling rank through a thread-local: on CPU, libtorch runs backward on
 * the thread that called it (the stage's thread, which {@link #bindToThread} bound). On CUDA, backward runs on
 * libtorch's device threads: the hook finds the rank by the gradient's device instead (written, not yet run on
 * a GPU).
 */
final class TensorParallelRank {

    /** No tensor parallelism: every operation here is the identity. */
    static final TensorParallelRank SINGLE = new TensorParallelRank(0, 1, null);

    private static final ThreadLocal<TensorParallelRank> BOUND = new ThreadLocal<>();
    private static final Map<Integer, TensorParallelRank> BY_CUDA_DEVICE = new ConcurrentHashMap<>();
    private static final GradientAllReduce HOOK = new GradientAllReduce();

    private final int rank;
    private final int size;
    private final CollectiveGroup<Tensor> group;
    private volatile RuntimeException hookFailure;

    TensorParallelRank(int rank, int size, CollectiveGroup<Tensor> group) {
        this.rank = rank;
        this.size = size;
        this.group = group;
    }

    int rank() {
        return rank;
    }

    int size() {
        return size;
    }

    boolean split() {
        return size > 1;
    }

    /** Makes this rank the one the backward hook reduces for on the calling thread (and on its CUDA device). */
    void bindToThread(Device device) {
        BOUND.set(this);
        if (device.is_cuda()) {
            BY_CUDA_DEVICE.put((int) device.index(), this);
        }
    }

    /**
     * Marks the start of a split region: {@code x} itself, whose gradient is summed over the ranks in backward.
     * {@code x} must feed only the region (a layer norm's output does), or the other uses' gradient would be
     * summed too.
     */
    Tensor enter(Tensor x) {
        if (split() && x.requires_grad()) {
            x.register_hook(HOOK);
        }
        return x;
    }

    /**
     * Ends a split region: the sum over the ranks of their partial {@code x}; its gradient passes unchanged. As in
     * Megatron, the all-reduce writes the sum into {@code x}'s own storage and {@code x} itself is returned, keeping
     * its place in the graph: backward hands its gradient on as it is. This needs {@code x} to be a fresh result
     * whose producer saved no output for backward (a matrix product, a sum, a masked fill; not an exp), which is what
     * every caller passes. (A copy for the all-reduce, then {@code reduced + (x - x)} to route the gradient, cost
     * three element-wise passes per region and per micro-batch.)
     */
    Tensor leave(Tensor x) {
        if (split()) {
            group.allReduce(x.detach(), Reduction.SUM);
        }
        return x;
    }

    /** The element-wise maximum over the ranks, in place, outside autograd. */
    void maxInPlace(Tensor x) {
        if (split()) {
            group.allReduce(x, Reduction.MAX);
        }
    }

    /** Throws what a backward hook of this rank failed with (a hook cannot throw into libtorch). */
    void rethrowHookFailure() {
        RuntimeException failure = hookFailure;
        if (failure != null) {
            hookFailure = null;
            throw failure;
        }
    }

    private Tensor reduceGradient(Tensor gradient) {
        Tensor reduced = gradient.clone();
        group.allReduce(reduced, Reduction.SUM);
        return reduced;
    }

    /** The process's one backward hook: sums a split region's input gradient over the calling rank's group. */
    private static final class GradientAllReduce extends TensorTensorHook {

        @Override
        public TensorBase call(TensorBase gradient) {
            Tensor g = new Tensor(gradient);
            TensorParallelRank rank =
                    g.is_cuda() ? BY_CUDA_DEVICE.get((int) g.device().index()) : BOUND.get();
            if (rank == null) {
                return g;
            }
            try {
                return rank.reduceGradient(g);
            } catch (RuntimeException e) {
                rank.hookFailure = e;
                return g;
            }
        }
    }
}
