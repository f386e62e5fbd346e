package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.Batch;
import dev.trainyard.runner.engine.TabularBatch;
import dev.trainyard.runner.engine.TokenBatch;
import dev.trainyard.spec.ModelSpec;
import org.bytedeco.pytorch.Device;
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
