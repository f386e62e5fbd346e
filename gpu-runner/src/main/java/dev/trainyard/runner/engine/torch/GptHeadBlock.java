package dev.trainyard.runner.engine.torch;

import dev.trainyard.spec.ModelSpec;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** Final layer norm and the projection to vocabulary logits {@code [B, T, vocab]}. */
final class GptHeadBlock extends ModelBlock {

    private final ModelSpec.Gpt spec;

    GptHeadBlock(int index, long seed, ModelSpec.Gpt spec) {
        super(index, seed);
        this.spec = spec;
        constantParameter("ln_f.weight", 1f, spec.dModel());
        constantParameter("ln_f.bias", 0f, spec.dModel());
        normalParameter("head.weight", 0.02, spec.vocab(), spec.dModel());
    }

    @Override
    Tensor forward(Tensor x, ForwardPass pass) {
        Tensor h = torch.layer_norm(
                x,
                new long[] {spec.dModel()},
                new TensorOptional(parameter("ln_f.weight")),
                new TensorOptional(parameter("ln_f.bias")),
                1e-5,
                false);
        return torch.linear(h, parameter("head.weight"));
    }
}
