package dev.trainyard.runner.engine.torch;

import dev.trainyard.spec.ModelSpec;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Token plus learned position embeddings: byte ids {@code [B, T]} to activations {@code [B, T, d]}. */
final class GptEmbeddingBlock extends ModelBlock {

    private final ModelSpec.Gpt spec;
    private final long[] positions;

    GptEmbeddingBlock(int index, long seed, ModelSpec.Gpt spec) {
        super(index, seed);
        this.spec = spec;
        normalParameter("tok_emb.weight", 0.02, spec.vocab(), spec.dModel());
        normalParameter("pos_emb.weight", 0.01, spec.seqLen(), spec.dModel());
        positions = new long[spec.seqLen()];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i;
        }
    }

    @Override
    Tensor forward(Tensor ids, ForwardPass pass) {
        Tensor tokens = torch.embedding(parameter("tok_emb.weight"), ids);
        Tensor where = Tensors.on(Tensors.longs(positions, positions.length), ids.device());
        Tensor x = tokens.add(torch.embedding(parameter("pos_emb.weight"), where));
        return dropout(x, spec.dropout(), pass, 0);
    }
}
