package dev.trainyard.runner.engine;

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
    return spec.model() instanceof TorchScriptSpec script ? script.seqLen() : ((GptSpec) spec.model()).seqLen();
  }

  /** The input and output widths and task tabular data is generated or read for. */
  private static MlpSpec tabularShape(JobSpec spec) {
    return spec.model() instanceof TorchScriptSpec script ? script.tabularShape() : (MlpSpec) spec.model();
  }

  /** Opens the source a spec names. */
  static TrainingData open(JobSpec spec) {
    DataSpec data = spec.data();
    return switch (data.type()) {
      case "arithmetic" -> TokenCorpus.of(ArithmeticCorpus.generate(data.seed(), 40_000), seqLen(spec), data);
      case "text" -> TokenCorpus.of(TokenCorpus.readBytes(data.uri()), seqLen(spec), data);
      case "synthetic-tabular" -> TabularData.synthetic(tabularShape(spec), data);
      case "jsonl", "csv" -> TabularFile.read(tabularShape(spec), data);
      default -> throw new SpecException("data.type '" + data.type() + "' is not supported");
    };
  }
}
