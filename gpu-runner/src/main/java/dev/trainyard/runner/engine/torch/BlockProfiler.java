package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.Batch;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Measures each block's forward + backward time on one micro-batch, block by block as the pipeline runs
 * them, so the partitioner can balance time rather than parameter count (an embedding has many parameters
 * and little work; the vocabulary head the opposite).
 */
final class BlockProfiler {

    private static final int REPEATS = 3;

    private BlockProfiler() {}

    /**
     * Seconds per block (the fastest of a few runs after a warm-up). Leaves no trace: all gradients zero, and
     * buffers a block updates in training forward (running statistics) as they were.
     */
    static double[] profile(List<ModelBlock> blocks, LossFunction lossFunction, Batch microBatch) {
        double[] seconds = new double[blocks.size()];
        try (PointerScope scope = new PointerScope()) {
            List<Tensor> buffers = new ArrayList<>();
            List<Tensor> saved = new ArrayList<>();
            blocks.forEach(block -> block.buffers().values().forEach(b -> {
                buffers.add(b);
                saved.add(b.clone());
            }));
            Tensor input = lossFunction.inputs(microBatch, NativeRuntime.device("cpu"));
            ForwardPass pass = new ForwardPass(true, 0, 0, 0);
            for (int i = 0; i < blocks.size(); i++) {
                boolean last = i == blocks.size() - 1;
                Tensor x = i == 0 ? input : input.detach().requires_grad_(true);
                double best = Double.MAX_VALUE;
                Tensor output = null;
                for (int r = 0; r <= REPEATS; r++) {
                    long start = System.nanoTime();
                    output = blocks.get(i).forward(x, pass);
                    if (last) {
                        lossFunction.loss(output, microBatch).backward();
                    } else {
                        output.backward(
                                torch.ones(Tensors.shape(output)),
                                new BoolOptional(),
                                false,
                                new TensorArrayRefOptional());
                    }
                    double elapsed = (System.nanoTime() - start) / 1e9;
                    best = r == 0 ? best : Math.min(best, elapsed);
                }
                seconds[i] = best;
                input = output.detach();
            }
            Tensors.withoutGrad(() -> {
                for (int b = 0; b < buffers.size(); b++) {
                    buffers.get(b).copy_(saved.get(b));
                }
            });
            for (ModelBlock block : blocks) {
                block.parameters().values().forEach(p -> {
                    Tensor g = p.grad();
                    if (g.defined()) {
                        g.zero_();
                    }
                });
            }
        }
        return seconds;
    }
}
