package dev.trainyard.runner.engine;

import java.util.List;

/**
 * Figures of one finished step. {@code stageBusySeconds} is the compute time of each stage inside the
 * pipeline phase; {@code bubbleFraction} is the share of stage-time the stages spent waiting.
 */
public record StepMetrics(
    long step,
    double loss,
    double learningRate,
    double gradNorm,
    double tokensPerSecond,
    double stepSeconds,
    List<Double> stageBusySeconds,
    double bubbleFraction,
    long peakRssBytes) {}
