package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.Batch;
import dev.trainyard.runner.engine.TabularBatch;
import dev.trainyard.runner.engine.TokenBatch;
import dev.trainyard.spec.ModelSpec;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Turns batches into model inputs and the last stage's output into the mean loss of a micro-batch. */
final class LossFunction {

    private final ModelSpec model;

    LossFunction(ModelSpec model) {
        this.model = model;
    }

    /** The first stage's input for a micro-batch. */
    Tensor inputs(Batch batch, Device device) {
        Tensor cpu = batch instanceof TokenBatch tokens
                ? Tensors.longs(tokens.inputs(), tokens.rows(), tokens.seqLen())
                : Tensors.floats(((TabularBatch) batch).inputs(), batch.rows(), ((TabularBatch) batch).features());
        return Tensors.on(cpu, device);
    }

    /**
     * The mean loss of a micro-batch when the last block's output is one tensor-parallel rank's slice of the
     * vocabulary's logits ({@code [B, T, vocab/t]}, this rank's tokens {@code [rank * vocab/t, (rank + 1) *
     * vocab/t)}): the vocabulary-parallel cross-entropy. Each rank exponentiates its own logits; all-reduces of
     * one number per token (the maximum, the sum of exponentials, the target's logit, found on the one rank that
     * holds it) give log-sum-exp minus the target logit without gathering the logits. Every rank gets the same
     * loss and, backward, the gradient of its own logits.
     */
    Tensor loss(Tensor modelOutput, Batch batch, TensorParallelRank tp) {
        if (!tp.split()) {
            return loss(modelOutput, batch);
        }
        TokenBatch tokens = (TokenBatch) batch;
        Tensor output = modelOutput.scalar_type().intern() == torch.ScalarType.Float
                ? modelOutput
                : modelOutput.to(torch.ScalarType.Float);
        long slice = output.size(output.dim() - 1);
        Tensor logits = output.reshape(-1, slice);
        Tensor targets = Tensors.on(Tensors.longs(tokens.targets(), tokens.targets().length), output.device());
        // Subtracting a constant per token changes no softmax: the maximum only keeps exp() in range.
        Tensor max = logits.detach().amax(new long[] {1}, true);
        tp.maxInPlace(max);
        Tensor shifted = logits.sub(max);
        Tensor sumExp = tp.leave(shifted.exp().sum(new long[] {1}, false, new ScalarTypeOptional()));
        Tensor local = targets.sub(new Scalar(tp.rank() * slice));
        Tensor elsewhere = torch.lt(local, new Scalar(0L)).logical_or(torch.ge(local, new Scalar(slice)));
        Tensor picked = torch.gather(
                        shifted, 1, local.masked_fill(elsewhere, new Scalar(0L)).unsqueeze(1))
                .squeeze(1)
                .masked_fill(elsewhere, new Scalar(0.0));
        return sumExp.log().sub(tp.leave(picked)).mean();
    }

    /** Mean loss over the micro-batch's targets (tokens, rows), computed in float32 whatever the output's type. */
    Tensor loss(Tensor modelOutput, Batch batch) {
        // Enums returned from native code are fresh objects: intern() before comparing.
        Tensor output = modelOutput.scalar_type().intern() == torch.ScalarType.Float
                ? modelOutput
                : modelOutput.to(torch.ScalarType.Float);
        if (batch instanceof TokenBatch tokens) {
            // Logits [B, T, vocab]: the vocabulary is the last dimension (a TorchScript module's own).
            Tensor targets = Tensors.on(Tensors.longs(tokens.targets(), tokens.targets().length), output.device());
            return torch.nll_loss(torch.log_softmax(output.reshape(-1, output.size(output.dim() - 1)), 1), targets);
        }
        TabularBatch rows = (TabularBatch) batch;
        if (classification()) {
            Tensor targets = Tensors.on(Tensors.longs(rows.classes(), rows.rows()), output.device());
            return torch.nll_loss(torch.log_softmax(output, 1), targets);
        }
        Tensor targets = Tensors.on(Tensors.floats(rows.values(), rows.rows()), output.device());
        return torch.mse_loss(output.reshape(-1), targets);
    }

    private boolean classification() {
        return model instanceof ModelSpec.TorchScript script
                ? script.classification()
                : ((ModelSpec.Mlp) model).classification();
    }
}
