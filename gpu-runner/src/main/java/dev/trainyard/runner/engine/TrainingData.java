package dev.trainyard.runner.engine;

import dev.trainyard.spec.DataSpec;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ModelSpec;

/**
 * A deterministic source of batches. The training batch at a position depends only on the seed and the
 * position, so a checkpoint needs to record nothing but the position to resume the exact data order.
 */
public interface TrainingData {

    /** The training batch number {@code position} (0 = the first batch of the run). */
    Batch trainBatch(long position, int rows);

    /** Held-out batch number {@code index}; the same index always yields the same rows. */
    Batch evalBatch(int index, int rows);

    /** How many held-out batches one evaluation averages over. */
    default int evalBatchCount() {
        return 4;
    }

    /** Loss of always predicting the training distribution's marginal (nats), or NaN when not meaningful. */
    default double unigramBaselineLoss() {
        return Double.NaN;
    }

    private static int seqLen(JobSpec spec) {
        return spec.model() instanceof ModelSpec.TorchScript script
                ? script.seqLen()
                : ((ModelSpec.Gpt) spec.model()).seqLen();
    }

    /** The input and output widths and task tabular data is generated or read for. */
    private static ModelSpec.Mlp tabularShape(JobSpec spec) {
        return spec.model() instanceof ModelSpec.TorchScript script
                ? script.tabularShape()
                : (ModelSpec.Mlp) spec.model();
    }

    /** Opens the source a spec names, reading files and URLs through {@code fetcher}. */
    static TrainingData open(JobSpec spec, DataFetcher fetcher) {
        DataSpec data = spec.data();
        if (data instanceof DataSpec.Arithmetic a) {
            return TokenCorpus.of(
                    ArithmeticCorpus.generate(a.seed(), 40_000), seqLen(spec), a.evalFraction(), a.seed());
        }
        if (data instanceof DataSpec.Text t) {
            // text has no seed in the spec: windows are drawn with seed 0, as the platform always did
            return TokenCorpus.of(fetcher.readBytes("data.uri", t.uri()), seqLen(spec), t.evalFraction(), 0);
        }
        if (data instanceof DataSpec.SyntheticTabular s) {
            return TabularData.synthetic(tabularShape(spec), s);
        }
        return TabularFile.read(tabularShape(spec), (DataSpec.Table) data, fetcher);
    }
}
