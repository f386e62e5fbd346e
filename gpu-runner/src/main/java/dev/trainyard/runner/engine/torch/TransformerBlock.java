package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.ShardLayout;
import dev.trainyard.spec.ModelSpec;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A pre-norm decoder layer: causal multi-head self-attention, then a 4x GELU MLP, each with a residual. Under
 * tensor parallelism (Megatron-style) a rank holds heads/t of the heads (its rows of Q, K and V: column-parallel
 * QKV) and the matching columns of the output projection (row-parallel), and 4d/t of the MLP's hidden units
 * (column-parallel fc, row-parallel proj); each sublayer's partial outputs are summed by one all-reduce before
 * the bias, dropout and residual, which, like the norms, are whole on every rank.
 */
final class TransformerBlock extends ModelBlock {

    private static final double EPS = 1e-5;
    private final ModelSpec.Gpt spec;

    TransformerBlock(int index, long seed, ModelSpec.Gpt spec) {
        this(index, seed, spec, TensorParallelRank.SINGLE);
    }

    TransformerBlock(int index, long seed, ModelSpec.Gpt spec, TensorParallelRank tensorParallel) {
        super(index, seed, tensorParallel);
        this.spec = spec;
        long d = spec.dModel();
        // Residual projections start smaller so the residual stream's variance does not grow with depth.
        double residualStd = 0.02 / Math.sqrt(2.0 * spec.layers());
        constantParameter("ln1.weight", 1f, d);
        constantParameter("ln1.bias", 0f, d);
        ShardLayout qkv = new ShardLayout(0, 3);
        normalParameter("attn.qkv.weight", 0.02, qkv, 3 * d, d);
        constantParameter("attn.qkv.bias", 0f, qkv, 3 * d);
        normalParameter("attn.proj.weight", residualStd, ShardLayout.COLUMNS, d, d);
        constantParameter("attn.proj.bias", 0f, d);
        constantParameter("ln2.weight", 1f, d);
        constantParameter("ln2.bias", 0f, d);
        normalParameter("mlp.fc.weight", 0.02, ShardLayout.ROWS, 4 * d, d);
        constantParameter("mlp.fc.bias", 0f, ShardLayout.ROWS, 4 * d);
        normalParameter("mlp.proj.weight", residualStd, ShardLayout.COLUMNS, d, 4 * d);
        constantParameter("mlp.proj.bias", 0f, d);
    }

    @Override
    Tensor forward(Tensor x, ForwardPass pass) {
        TensorParallelRank tp = tensorParallel();
        Tensor attended = x.add(dropout(attention(tp.enter(norm(x, "ln1"))), spec.dropout(), pass, 0));
        Tensor hidden = torch.gelu(linear(tp.enter(norm(attended, "ln2")), "mlp.fc"));
        return attended.add(dropout(rowParallel(hidden, "mlp.proj"), spec.dropout(), pass, 1));
    }

    private Tensor attention(Tensor h) {
        long batch = h.size(0);
        long time = h.size(1);
        int ranks = tensorParallel().size();
        long d = spec.dModel() / ranks;
        long heads = spec.heads() / ranks;
        TensorVector qkv = linear(h, "attn.qkv").split(d, 2);
        Tensor q = splitHeads(qkv.get(0), batch, time, heads, d / heads);
        Tensor k = splitHeads(qkv.get(1), batch, time, heads, d / heads);
        Tensor v = splitHeads(qkv.get(2), batch, time, heads, d / heads);
        Tensor y = torch.scaled_dot_product_attention(
                q, k, v, new TensorOptional(), 0.0, true, new DoubleOptional(), false);
        return rowParallel(y.transpose(1, 2).reshape(batch, time, d), "attn.proj");
    }

    /**
     * A projection whose input features are split across the ranks: each computes a partial product, the
     * all-reduce sums them, then the (whole) bias is added once. Unsplit, the one fused linear as before.
     */
    private Tensor rowParallel(Tensor x, String name) {
        TensorParallelRank tp = tensorParallel();
        if (!tp.split()) {
            return linear(x, name);
        }
        return tp.leave(torch.linear(x, parameter(name + ".weight"))).add(parameter(name + ".bias"));
    }

    private static Tensor splitHeads(Tensor t, long batch, long time, long heads, long headDim) {
        return t.reshape(batch, time, heads, headDim).transpose(1, 2);
    }

    private Tensor norm(Tensor x, String name) {
        return torch.layer_norm(
                x,
                new long[] {spec.dModel()},
                new TensorOptional(parameter(name + ".weight")),
                new TensorOptional(parameter(name + ".bias")),
                EPS,
                false);
    }

    private Tensor linear(Tensor x, String name) {
        return torch.linear(x, parameter(name + ".weight"), new TensorOptional(parameter(name + ".bias")));
    }
}
