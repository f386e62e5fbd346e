package dev.trainyard.runner.engine;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ModelSpec;
import java.util.OptionalDouble;

/**
 * Model FLOPs utilization (MFU): the FLOP/s the model's arithmetic needs at the measured throughput, over the peak
 * FLOP/s of the devices the job holds. Model FLOPs per token are 6 x parameters (forward 2, backward 4 per
 * parameter and token) plus, for a GPT, the attention scores and weighted sums, 12 x layers x seqLen x dModel
 * (as in PaLM's appendix B). Recomputation's extra forward is not counted: it is work the hardware does, not
 * work the model needs, so MFU stays comparable with and without it. For tabular models a "token" is a row.
 *
 * @param perToken model FLOPs per token (or row) of one training step, forward and backward
 */
public record ModelFlops(double perToken) {

    /** The FLOPs per token of {@code spec}'s model with {@code parameters} trainable parameters. */
    public static ModelFlops of(JobSpec spec, long parameters) {
        double flops = 6.0 * parameters;
        if (spec.model() instanceof ModelSpec.Gpt gpt) {
            flops += 12.0 * gpt.layers() * gpt.seqLen() * gpt.dModel();
        }
        return new ModelFlops(flops);
    }

    /**
     * MFU at {@code tokensPerSecond} (the whole job's) on {@code devices} devices of {@code peakFlopsPerDevice}
     * each; empty when no peak is declared (0 or less), so no figure is made up.
     */
    public OptionalDouble utilization(double tokensPerSecond, int devices, double peakFlopsPerDevice) {
        if (!(peakFlopsPerDevice > 0) || devices < 1 || !Double.isFinite(tokensPerSecond)) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(perToken * tokensPerSecond / (devices * peakFlopsPerDevice));
    }
}
