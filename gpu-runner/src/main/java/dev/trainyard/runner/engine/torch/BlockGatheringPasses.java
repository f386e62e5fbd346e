package dev.trainyard.runner.engine.torch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;

/**
 * The passes of a ZeRO 3 stage, FSDP-style: a block's whole parameters exist only while that block runs. Forward
 * gathers a block, runs it without autograd and releases it, keeping only the block's input; backward gathers
 * the block again, recomputes its forward from that input with autograd, runs its backward, reduce-scatters its
 * gradients into the slices and releases parameters and gradients. A graph kept from forward would hold every
 * block's weights (autograd saves them for backward) until backward, as the stage-level gather did.
 *
 * <p>Communication overlaps computation: before a block runs, the all-gather of the block that runs next (the
 * following one in forward, the preceding one in backward) is started, and waited for only when that block
 * starts; a block's gradient reduce-scatter is started after its backward and waited for after the next block's
 * recomputed forward, before that block's backward makes gradients of its own. So at most two blocks' parameters
 * are whole at once (the one running and the one being gathered), and one block's gradients. A pass leaves its
 * last block gathered for the next pass, which starts with it when the schedule runs a micro-batch's backward
 * right after its forward (the last block) or the next forward right after a backward (the first block), instead
 * of gathering it again; any other next pass releases it first.
 *
 * <p>Recomputation does not change the arithmetic: the recomputed forward is the same operations on the same
 * inputs (dropout masks are seeded per micro-batch and block), and a block's backward is the part of the stage's
 * that runs through it. What does change it with several micro-batches is that each micro-batch's gradient is
 * reduced over the replicas before the micro-batches are summed, where ZeRO 0-2 sum first: the result agrees with
 * theirs within rounding, and is bitwise with one micro-batch (over two processes: on CPU the reduce-scatter sums
 * the processes' pieces in rank order, see {@link ReplicaGroup#startReduceScatterMean}).
 *
 * <p>Scopes: each block runs in a scope of its own, closed after the release, so that no Java handle (of a
 * gathered bucket, a transposed weight) keeps the gathered storage alive; block inputs live in the step's scope.
 */
final class BlockGatheringPasses {

    /** Runs block {@code block} of the stage on {@code x}: on the last stage's last block, followed by the loss. */
    interface BlockRun {
        Tensor run(int block, Tensor x);
    }

    private final int blocks;
    private final ShardedAdamW optimizer;
    /** Per micro-batch in flight, each block's input, owned by the step's scope. */
    private final Map<Integer, List<Tensor>> blockInputs = new HashMap<>();
    /** The block the last pass left gathered, or -1. */
    private int kept = -1;

    BlockGatheringPasses(int blocks, ShardedAdamW optimizer) {
        this.blocks = blocks;
        this.optimizer = optimizer;
    }

    /** Forward of micro-batch {@code microBatch} without autograd; keeps each block's input for its backward. */
    Tensor forward(int microBatch, Tensor input, BlockRun run, PointerScope step) {
        List<Tensor> inputs = new ArrayList<>(blocks);
        Tensor[] x = {input};
        Tensors.withoutGrad(() -> {
            startWith(0);
            for (int i = 0; i < blocks; i++) {
                inputs.add(x[0]);
                x[0] = runGathered(i, i + 1, x[0], run, step, i == blocks - 1);
            }
        });
        blockInputs.put(microBatch, inputs);
        return x[0];
    }

    /** Forward without autograd for evaluation; keeps nothing, no block gathered afterwards either. */
    Tensor evaluate(Tensor input, BlockRun run, PointerScope step) {
        startWith(0);
        Tensor x = input;
        for (int i = 0; i < blocks; i++) {
            x = runGathered(i, i + 1, x, run, step, false);
        }
        return x;
    }

    /**
     * Block {@code block} on {@code x} with its parameters gathered for the call, the gather of block {@code next}
     * started before it runs; the output owned by {@code step}. The block stays gathered when {@code keep}.
     */
    private Tensor runGathered(int block, int next, Tensor x, BlockRun run, PointerScope step, boolean keep) {
        try (PointerScope scope = new PointerScope()) {
            optimizer.gatherBlock(block);
            optimizer.prefetchBlock(next);
            Tensor output = PipelineStage.keep(step, run.run(block, x));
            finish(block, keep);
            return output;
        }
    }

    /** Releases the block the last pass left gathered unless it is {@code block}, which this pass starts with. */
    private void startWith(int block) {
        if (kept >= 0 && kept != block) {
            optimizer.releaseBlock(kept);
        }
        kept = -1;
    }

    private void finish(int block, boolean keep) {
        if (keep) {
            kept = block;
        } else {
            optimizer.releaseBlock(block);
        }
    }

    /**
     * Backward of micro-batch {@code microBatch}, block by block from the last, starting from {@code gradOutput} (null
     * on the last stage, whose output is the loss). Returns the gradient of the stage's input, owned by {@code
     * step}, or null when {@code inputGradient} is false (the first stage's input is token ids).
     */
    Tensor backward(
            int microBatch,
            Tensor gradOutput,
            BlockRun recompute,
            Runnable afterBackward,
            boolean inputGradient,
            PointerScope step) {
        List<Tensor> inputs = blockInputs.remove(microBatch);
        Tensor grad = gradOutput;
        Tensor held = null; // the gradient handed from block to block, held across the blocks' scopes
        startWith(blocks - 1);
        for (int i = blocks - 1; i >= 0; i--) {
            boolean wantsGrad = i > 0 || inputGradient;
            try (PointerScope scope = new PointerScope()) {
                optimizer.gatherBlock(i);
                optimizer.prefetchBlock(i - 1);
                Tensor in = wantsGrad ? inputs.get(i).detach().requires_grad_(true) : inputs.get(i);
                Tensor out = recompute.run(i, in);
                // the previous block's reduce-scatter ran during this block's gather and recomputation
                optimizer.awaitGradientReductions();
                if (grad == null) {
                    out.backward();
                } else {
                    out.backward(grad, new BoolOptional(), false, new TensorArrayRefOptional());
                }
                afterBackward.run();
                optimizer.sampleHeldBytes();
                optimizer.reduceBlockGradients(i);
                finish(i, i == 0);
                Tensor next = wantsGrad ? new Tensor(in.grad()) : null;
                if (next != null) {
                    next.retainReference();
                }
                if (held != null) {
                    held.releaseReference();
                }
                held = next;
                grad = next;
            }
        }
        if (held == null) {
            return null;
        }
        Tensor result = PipelineStage.keep(step, held);
        held.releaseReference();
        return result;
    }
}
