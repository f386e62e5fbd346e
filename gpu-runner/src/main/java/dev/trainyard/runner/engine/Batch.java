package dev.trainyard.runner.engine;

/** One step's examples as plain Java arrays; the torch side turns micro-batch slices into tensors. */
public sealed interface Batch permits TokenBatch, TabularBatch {

    int rows();

    /** Rows {@code [part * rows/parts, (part+1) * rows/parts)}: one micro-batch. */
    default Batch slice(int part, int parts) {
        return slice(part, 1, parts);
    }

    /** Parts {@code first} to {@code first + count - 1} of {@code parts} equal parts: a process's replicas. */
    Batch slice(int first, int count, int parts);

    /** Elements that count towards throughput (tokens for sequences, rows for tables). */
    long tokens();
}
