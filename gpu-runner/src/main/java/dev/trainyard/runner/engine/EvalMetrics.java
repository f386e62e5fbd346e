package dev.trainyard.runner.engine;

/** Held-out loss after {@code step} steps, averaged over the fixed evaluation batches. */
public record EvalMetrics(long step, double evalLoss) {}
