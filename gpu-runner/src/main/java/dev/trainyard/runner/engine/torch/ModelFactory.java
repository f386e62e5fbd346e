package dev.trainyard.runner.engine.torch;

import dev.trainyard.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/** Builds the blocks a model spec describes, in order; block indices match {@code ModelLayout}. */
final class ModelFactory {

    private ModelFactory() {}

    static List<ModelBlock> build(ModelSpec spec, long seed) {
        List<ModelBlock> blocks = new ArrayList<>();
        if (spec instanceof ModelSpec.Gpt gpt) {
            blocks.add(new GptEmbeddingBlock(0, seed, gpt));
            for (int i = 1; i <= gpt.layers(); i++) {
                blocks.add(new TransformerBlock(i, seed, gpt));
            }
            blocks.add(new GptHeadBlock(gpt.layers() + 1, seed, gpt));
        } else {
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
