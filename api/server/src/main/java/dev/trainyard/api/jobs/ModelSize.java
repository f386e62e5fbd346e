package dev.trainyard.api.jobs;

import dev.trainyard.api.jobs.spec.JobSpec;
import dev.trainyard.api.jobs.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Estimates of a model's size before anything is built: parameters per pipeline block and peak memory per
 * stage. The runner measures the real figures; these let the dry run say whether a plan is sensible.
 */
final class ModelSize {
    private static final long FLOAT_BYTES = 4;

    private ModelSize() {
    }

    /** Parameters of each pipeline block, in order; empty when only the model file knows. */
    static List<Long> blockParameters(ModelSpec model) {
        List<Long> blocks = new ArrayList<>();
        if (model instanceof ModelSpec.Gpt g) {
            long d = g.dModel();
            blocks.add((long) g.vocab() * d + (long) g.seqLen() * d);
            for (int i = 0; i < g.layers(); i++) {
                // two layer norms, fused q/k/v and output projections, a 4x MLP; all with biases
                blocks.add(2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d));
            }
            blocks.add(2 * d + d * g.vocab());
        } else if (model instanceof ModelSpec.Mlp m) {
            long in = m.inputs();
            for (int width : m.hidden()) {
                blocks.add(in * width + width);
                in = width;
            }
            blocks.add(in * m.outputs() + m.outputs());
        }
        return blocks;
    }

    static long parameters(ModelSpec model) {
        return blockParameters(model).stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Peak bytes per stage with contiguous blocks split as evenly as possible by count: weights, gradients
     * and two AdamW moments (4 copies), plus activations of the micro-batches in flight (all of them for
     * GPipe, at most one per stage for 1F1B).
     */
    static List<Long> memoryPerStage(JobSpec spec, int stages) {
        List<Long> blocks = blockParameters(spec.model());
        List<Long> out = new ArrayList<>();
        if (blocks.isEmpty() || stages < 1) {
            return out;
        }
        int micro = spec.parallelism().microBatches();
        long microBatch = Math.max(1, spec.training().batchSize() / (long) micro / spec.parallelism().dataParallel());
        long activationPerBlock = activationBytes(spec.model(), microBatch);
        int inFlight = "gpipe".equals(spec.parallelism().schedule()) ? micro : Math.min(micro, stages);
        for (int s = 0; s < stages; s++) {
            int from = s * blocks.size() / stages;
            int to = (s + 1) * blocks.size() / stages;
            long params = blocks.subList(from, to).stream().mapToLong(Long::longValue).sum();
            long activations = (long) (to - from) * activationPerBlock * inFlight;
            if (spec.parallelism().recompute()) {
                activations = activationPerBlock * inFlight;
            }
            out.add(params * FLOAT_BYTES * 4 + activations);
        }
        return out;
    }

    private static long activationBytes(ModelSpec model, long microBatch) {
        if (model instanceof ModelSpec.Gpt g) {
            long tokens = microBatch * g.seqLen();
            // roughly 16 d-wide tensors per token per block, plus the attention matrix per head
            return FLOAT_BYTES * (tokens * 16L * g.dModel() + microBatch * g.heads() * (long) g.seqLen() * g.seqLen());
        }
        if (model instanceof ModelSpec.Mlp m) {
            int widest = Math.max(m.inputs(), m.hidden().stream().mapToInt(Integer::intValue).max().orElse(1));
            return FLOAT_BYTES * microBatch * widest * 3L;
        }
        return 0;
    }
}
