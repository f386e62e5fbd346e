package dev.trainyard.runner.engine;

/** One step's examples as plain Java arrays; the torch side turns micro-batch slices into tensors. */
public sealed interface Batch permits TokenBatch, TabularBatch {

  int rows();

  /** Rows {@code [part * rows/parts, (part+1) * rows/parts)}: one micro-batch. */
  Batch slice(int part, int parts);

  /** Elements that count towards throughput (tokens for sequences, rows for tables). */
  long tokens();
}
