package dev.trainyard.runner.engine.torch;

import dev.trainyard.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/** Builds the blocks a model spec describes, in order; block indices match {@code ModelLayout}. */
final class ModelFactory {

    private ModelFactory() {}

    static List<ModelBlock> build(ModelSpec spec, long seed) {
        return build(spec, seed, block -> TensorParallelRank.SINGLE);
    }

    /**
     * The blocks as one rank of a tensor-parallel group holds them (its slices of the split parameters);
     * {@code rankOf} gives, per block index, the rank's place in the group of the stage that block belongs to.
     */
    static List<ModelBlock> build(ModelSpec spec, long seed, IntFunction<TensorParallelRank> rankOf) {
        List<ModelBlock> blocks = new ArrayList<>();
        if (spec instanceof ModelSpec.Gpt gpt) {
            blocks.add(new GptEmbeddingBlock(0, seed, gpt, rankOf.apply(0)));
            for (int i = 1; i <= gpt.layers(); i++) {
                blocks.add(new TransformerBlock(i, seed, gpt, rankOf.apply(i)));
            }
            blocks.add(new GptHeadBlock(gpt.layers() + 1, seed, gpt, rankOf.apply(gpt.layers() + 1)));
        } else {
            if (rankOf.apply(0).split()) {
                throw new IllegalArgumentException("tensor parallelism splits gpt models only");
            }
            ModelSpec.Mlp mlp = (ModelSpec.Mlp) spec;
            int in = mlp.inputs();
            for (int width : mlp.hidden()) {
                blocks.add(new DenseBlock(blocks.size(), seed, in, width, true));
                in = width;
            }
            blocks.add(new DenseBlock(blocks.size(), seed, in, mlp.outputs(), false));
        }
        return blocks;
    }
}
