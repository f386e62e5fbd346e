package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.ShardLayout;
import dev.trainyard.spec.ModelSpec;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Token plus learned position embeddings: byte ids {@code [B, T]} to activations {@code [B, T, d]}. Under tensor
 * parallelism each rank holds the rows of vocab/t tokens: it looks up the ids in its range, zeros the others, and
 * one all-reduce adds the ranks' rows (exactly one rank contributes each token). Positions are whole everywhere.
 */
final class GptEmbeddingBlock extends ModelBlock {

    private final ModelSpec.Gpt spec;
    private final long[] positions;

    GptEmbeddingBlock(int index, long seed, ModelSpec.Gpt spec) {
        this(index, seed, spec, TensorParallelRank.SINGLE);
    }

    GptEmbeddingBlock(int index, long seed, ModelSpec.Gpt spec, TensorParallelRank tensorParallel) {
        super(index, seed, tensorParallel);
        this.spec = spec;
        normalParameter("tok_emb.weight", 0.02, ShardLayout.ROWS, spec.vocab(), spec.dModel());
        normalParameter("pos_emb.weight", 0.01, spec.seqLen(), spec.dModel());
        positions = new long[spec.seqLen()];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i;
        }
    }

    @Override
    Tensor forward(Tensor ids, ForwardPass pass) {
        Tensor tokens = tokens(ids);
        Tensor where = Tensors.on(Tensors.longs(positions, positions.length), ids.device());
        Tensor x = tokens.add(torch.embedding(parameter("pos_emb.weight"), where));
        return dropout(x, spec.dropout(), pass, 0);
    }

    private Tensor tokens(Tensor ids) {
        TensorParallelRank tp = tensorParallel();
        Tensor table = parameter("tok_emb.weight");
        if (!tp.split()) {
            return torch.embedding(table, ids);
        }
        long rows = table.size(0);
        Tensor local = ids.sub(new Scalar(tp.rank() * rows));
        Tensor elsewhere = torch.lt(local, new Scalar(0L)).logical_or(torch.ge(local, new Scalar(rows)));
        Tensor found = torch.embedding(table, local.masked_fill(elsewhere, new Scalar(0L)));
        return tp.leave(found.masked_fill(elsewhere.unsqueeze(-1), new Scalar(0.0)));
    }
}
