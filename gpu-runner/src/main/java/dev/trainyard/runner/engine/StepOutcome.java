package dev.trainyard.runner.engine;

import java.util.List;

/**
 * One training step as the pipeline saw it: loss, gradient norm before clipping, busy time per stage, and each
 * stage's split of its step into compute, bubble and communication ({@code stageTimes}, empty when the engine does
 * not measure it).
 */
public record StepOutcome(
        double loss,
        double gradNorm,
        List<Double> stageBusySeconds,
        double pipelineSeconds,
        double bubbleFraction,
        List<Double> stageCpuSeconds,
        List<StageTime> stageTimes) {

    public StepOutcome {
        stageTimes = stageTimes == null ? List.of() : List.copyOf(stageTimes);
    }

    /** An outcome without the per-stage time split. */
    public StepOutcome(
            double loss,
            double gradNorm,
            List<Double> stageBusySeconds,
            double pipelineSeconds,
            double bubbleFraction,
            List<Double> stageCpuSeconds) {
        this(loss, gradNorm, stageBusySeconds, pipelineSeconds, bubbleFraction, stageCpuSeconds, List.of());
    }
}
