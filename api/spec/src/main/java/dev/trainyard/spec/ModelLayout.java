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
        if (model instanceof ModelSpec.Gpt gpt) {
            return gpt(gpt);
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

    private static ModelLayout gpt(ModelSpec.Gpt s) {
        long d = s.dModel();
        long t = s.seqLen();
        long v = s.vocab();
        List<BlockLayout> blocks = new ArrayList<>();
        blocks.add(new BlockLayout(0, "embedding", v * d + t * d, 2 * t * d, t * d));
        long perLayer = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (4 * d * d + 4 * d) + (4 * d * d + d);
        // Saved for backward: norms, q/k/v, attention output and its weights, projections, the 4d MLP twice.
        long layerActivations = 18 * t * d + (long) s.heads() * t * t;
        for (int i = 0; i < s.layers(); i++) {
            blocks.add(new BlockLayout(i + 1, "transformer", perLayer, layerActivations, t * d));
        }
        blocks.add(new BlockLayout(s.layers() + 1, "head", 2 * d + d * v, 2 * t * d + 2 * t * v, t * v));
        return new ModelLayout(blocks);
    }

    private static ModelLayout mlp(ModelSpec.Mlp s) {
        List<BlockLayout> blocks = new ArrayList<>();
        long in = s.inputs();
        for (int width : s.hidden()) {
            blocks.add(new BlockLayout(blocks.size(), "dense", in * width + width, in + 2L * width, width));
            in = width;
        }
        blocks.add(new BlockLayout(
                blocks.size(), "output", in * s.outputs() + s.outputs(), in + s.outputs(), s.outputs()));
        return new ModelLayout(blocks);
    }
}
