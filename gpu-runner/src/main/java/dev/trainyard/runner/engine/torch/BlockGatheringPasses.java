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
 * <p>Recomputation does not change the arithmetic: the recomputed forward is the same operations on the same
 * inputs (dropout masks are seeded per micro-batch and block), and a block's backward is the part of the stage's
 * that runs through it. What does change it with several micro-batches is that each micro-batch's gradient is
 * reduced over the replicas before the micro-batches are summed, where ZeRO 0-2 sum first: the result agrees with
 * theirs within rounding, and is bitwise with one micro-batch.
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

    BlockGatheringPasses(int blocks, ShardedAdamW optimizer) {
        this.blocks = blocks;
        this.optimizer = optimizer;
    }

    /** Forward of micro-batch {@code microBatch} without autograd; keeps each block's input for its backward. */
    Tensor forward(int microBatch, Tensor input, BlockRun run, PointerScope step) {
        List<Tensor> inputs = new ArrayList<>(blocks);
        Tensor[] x = {input};
        Tensors.withoutGrad(() -> {
            for (int i = 0; i < blocks; i++) {
                inputs.add(x[0]);
                x[0] = runGathered(i, x[0], run, step);
            }
        });
        blockInputs.put(microBatch, inputs);
        return x[0];
    }

    /** Forward without autograd for evaluation; keeps nothing. */
    Tensor evaluate(Tensor input, BlockRun run, PointerScope step) {
        Tensor x = input;
        for (int i = 0; i < blocks; i++) {
            x = runGathered(i, x, run, step);
        }
        return x;
    }

    /** Block {@code block} on {@code x} with its parameters gathered for the call; the output owned by {@code step}. */
    private Tensor runGathered(int block, Tensor x, BlockRun run, PointerScope step) {
        try (PointerScope scope = new PointerScope()) {
            optimizer.gatherBlock(block);
            Tensor output = PipelineStage.keep(step, run.run(block, x));
            optimizer.releaseBlock(block);
            return output;
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
        for (int i = blocks - 1; i >= 0; i--) {
            boolean wantsGrad = i > 0 || inputGradient;
            try (PointerScope scope = new PointerScope()) {
                optimizer.gatherBlock(i);
                Tensor in = wantsGrad ? inputs.get(i).detach().requires_grad_(true) : inputs.get(i);
                Tensor out = recompute.run(i, in);
                if (grad == null) {
                    out.backward();
                } else {
                    out.backward(grad, new BoolOptional(), false, new TensorArrayRefOptional());
                }
                afterBackward.run();
                optimizer.sampleHeldBytes();
                optimizer.reduceBlockGradients(i);
                optimizer.releaseBlock(i);
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
