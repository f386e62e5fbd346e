package dev.trainyard.runner.engine.torch;

import dev.trainyard.spec.ModelSpec;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/** A pre-norm decoder layer: causal multi-head self-attention, then a 4x GELU MLP, each with a residual. */
final class TransformerBlock extends ModelBlock {

    private static final double EPS = 1e-5;
    private final ModelSpec.Gpt spec;

    TransformerBlock(int index, long seed, ModelSpec.Gpt spec) {
        super(index, seed);
        this.spec = spec;
        long d = spec.dModel();
        // Residual projections start smaller so the residual stream's variance does not grow with depth.
        double residualStd = 0.02 / Math.sqrt(2.0 * spec.layers());
        constantParameter("ln1.weight", 1f, d);
        constantParameter("ln1.bias", 0f, d);
        normalParameter("attn.qkv.weight", 0.02, 3 * d, d);
        constantParameter("attn.qkv.bias", 0f, 3 * d);
        normalParameter("attn.proj.weight", residualStd, d, d);
        constantParameter("attn.proj.bias", 0f, d);
        constantParameter("ln2.weight", 1f, d);
        constantParameter("ln2.bias", 0f, d);
        normalParameter("mlp.fc.weight", 0.02, 4 * d, d);
        constantParameter("mlp.fc.bias", 0f, 4 * d);
        normalParameter("mlp.proj.weight", residualStd, d, 4 * d);
        constantParameter("mlp.proj.bias", 0f, d);
    }

    @Override
    Tensor forward(Tensor x, ForwardPass pass) {
        Tensor attended = x.add(dropout(attention(norm(x, "ln1")), spec.dropout(), pass, 0));
        Tensor hidden = torch.gelu(linear(norm(attended, "ln2"), "mlp.fc"));
        return attended.add(dropout(linear(hidden, "mlp.proj"), spec.dropout(), pass, 1));
    }

    private Tensor attention(Tensor h) {
        long batch = h.size(0);
        long time = h.size(1);
        long d = spec.dModel();
        long heads = spec.heads();
        TensorVector qkv = linear(h, "attn.qkv").split(d, 2);
        Tensor q = splitHeads(qkv.get(0), batch, time, heads, d / heads);
        Tensor k = splitHeads(qkv.get(1), batch, time, heads, d / heads);
        Tensor v = splitHeads(qkv.get(2), batch, time, heads, d / heads);
        Tensor y = torch.scaled_dot_product_attention(
                q, k, v, new TensorOptional(), 0.0, true, new DoubleOptional(), false);
        return linear(y.transpose(1, 2).reshape(batch, time, d), "attn.proj");
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
