package dev.trainyard.spec;

import java.util.ArrayList;
import java.util.List;

/**
 * The blocks of a model, computed from its spec without building it: what the engine allocates, so that the
 * partitioner, the engine's memory check and the API's dry run all count the same parameters and activations.
 */
public record ModelLayout(List<BlockLayout> blocks) {

    public ModelLayout {
        blocks = List.copyOf(blocks);
    }

    /** Whether the layout of {@code model} is known from the spec alone (not for a TorchScript file). */
    public static boolean known(ModelSpec model) {
        return model instanceof ModelSpec.Gpt || model instanceof ModelSpec.Mlp;
    }

    /** The layout of the model a normalized spec describes. */
    public static ModelLayout of(ModelSpec model) {
        return of(model, 1);
    }

    /**
     * The layout one device of a tensor-parallel group of {@code tensorParallel} holds: the split weights (QKV,
     * projections, MLP, vocabulary) and the activations computed on split heads, hidden width or vocabulary are
     * divided; layer norms, biases added after an all-reduce and the residual stream are whole on every device.
     */
    public static ModelLayout of(ModelSpec model, int tensorParallel) {
        if (model instanceof ModelSpec.Gpt gpt) {
            return gpt(gpt, Math.max(1, tensorParallel));
        }
        if (model instanceof ModelSpec.Mlp mlp) {
            return mlp(mlp);
        }
        throw new IllegalArgumentException("a torchscript model's layout is known only once its file is loaded");
    }

    public long parameters() {
        return blocks.stream().mapToLong(BlockLayout::parameters).sum();
    }

    public long[] parameterCounts() {
        return blocks.stream().mapToLong(BlockLayout::parameters).toArray();
    }

    private static ModelLayout gpt(ModelSpec.Gpt s, int tp) {
        long d = s.dModel();
        long t = s.seqLen();
        long v = s.vocab();
        List<BlockLayout> blocks = new ArrayList<>();
        blocks.add(new BlockLayout(0, "embedding", v * d / tp + t * d, 2 * t * d, t * d, Math.max(v * d / tp, t * d)));
        long replicated = 2 * d + d + 2 * d + d; // two norms, the two biases added after their all-reduce
        long split = (3 * d * d + 3 * d) + d * d + (4 * d * d + 4 * d) + 4 * d * d;
        long perLayer = replicated + split / tp;
        // Saved for backward, measured on CPU: the block's input, both norms' outputs and the attention residual
        // (4 t d, whole on every device), q/k/v, the attention output, the 4d MLP twice (12 t d, split). Attention
        // keeps one log-sum-exp per head and position, not the t x t weights (computed again in backward). One t d
        // more stands for backward's working set: a layer measured 16 t d per micro-batch under GPipe (8 in
        // flight) and 17.3 with one in flight under 1F1B.
        long layerActivations = 5 * t * d + (12 * t * d + (long) s.heads() * t) / tp;
        for (int i = 0; i < s.layers(); i++) {
            // the largest tensors are the MLP's two 4d x d matrices (the fused QKV weight is 3d x d)
            blocks.add(new BlockLayout(i + 1, "transformer", perLayer, layerActivations, t * d, 4 * d * d / tp));
        }
        blocks.add(new BlockLayout(
                s.layers() + 1, "head", 2 * d + d * v / tp, 2 * t * d + 2 * t * v / tp, t * v / tp, d * v / tp));
        return new ModelLayout(blocks);
    }

    private static ModelLayout mlp(ModelSpec.Mlp s) {
        List<BlockLayout> blocks = new ArrayList<>();
        long in = s.inputs();
        for (int width : s.hidden()) {
            blocks.add(new BlockLayout(blocks.size(), "dense", in * width + width, in + 2L * width, width, in * width));
            in = width;
        }
        blocks.add(new BlockLayout(
                blocks.size(),
                "output",
                in * s.outputs() + s.outputs(),
                in + s.outputs(),
                s.outputs(),
                in * s.outputs()));
        return new ModelLayout(blocks);
    }
}
