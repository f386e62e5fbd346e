package dev.trainyard.runner.engine;

import java.util.List;

/** One training step as the pipeline saw it: loss, gradient norm before clipping, busy time per stage. */
public record StepOutcome(
        double loss,
        double gradNorm,
        List<Double> stageBusySeconds,
        double pipelineSeconds,
        double bubbleFraction,
        List<Double> stageCpuSeconds) {}
