package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.ShardLayout;
import dev.trainyard.spec.ModelSpec;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Final layer norm and the projection to vocabulary logits {@code [B, T, vocab]}. Under tensor parallelism each
 * rank computes the logits of its vocab/t tokens only, {@code [B, T, vocab/t]}; the loss is then the
 * vocabulary-parallel cross-entropy ({@link LossFunction}), so the whole logits are never gathered.
 */
final class GptHeadBlock extends ModelBlock {

    private final ModelSpec.Gpt spec;

    GptHeadBlock(int index, long seed, ModelSpec.Gpt spec) {
        this(index, seed, spec, TensorParallelRank.SINGLE);
    }

    GptHeadBlock(int index, long seed, ModelSpec.Gpt spec, TensorParallelRank tensorParallel) {
        super(index, seed, tensorParallel);
        this.spec = spec;
        constantParameter("ln_f.weight", 1f, spec.dModel());
        constantParameter("ln_f.bias", 0f, spec.dModel());
        normalParameter("head.weight", 0.02, ShardLayout.ROWS, spec.vocab(), spec.dModel());
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
        return torch.linear(tensorParallel().enter(h), parameter("head.weight"));
    }
}
