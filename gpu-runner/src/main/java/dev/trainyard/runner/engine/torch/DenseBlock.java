package dev.trainyard.runner.engine.torch;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** A fully connected MLP layer, with GELU for hidden layers and without for the output layer. */
final class DenseBlock extends ModelBlock {

    private final boolean activation;

    DenseBlock(int index, long seed, int inputs, int outputs, boolean activation) {
        super(index, seed);
        this.activation = activation;
        normalParameter("linear.weight", Math.sqrt(2.0 / inputs), outputs, inputs);
        constantParameter("linear.bias", 0f, outputs);
    }

    @Override
    Tensor forward(Tensor x, ForwardPass pass) {
        Tensor y = torch.linear(x, parameter("linear.weight"), new TensorOptional(parameter("linear.bias")));
        return activation ? torch.gelu(y) : y;
    }
}
