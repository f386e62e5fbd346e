package dev.trainyard.runner.engine;

import java.util.List;
import java.util.OptionalDouble;

/**
 * Figures of one finished step. {@code tokensPerSecond} is the whole job's: the tokens of the step's batch over all
 * data-parallel replicas (which step together) per second of this process's step. {@code stageBusySeconds} is the wall time each stage spent computing in the
 * pipeline phase (not waiting for a neighbour); {@code bubbleFraction} is the share of stage-time spent
 * waiting; {@code stageCpuSeconds} is each stage thread's CPU time in that phase, which, unlike wall time,
 * does not grow when other processes compete for the cores. {@code stageTimes} splits each stage's whole step into
 * compute, bubble and communication (empty when the engine does not measure it); {@code modelFlopsUtilization} is
 * the model FLOP/s over the job's devices' declared peak (see {@link ModelFlops}), empty when no peak is declared.
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
        long peakRssBytes,
        List<Double> stageCpuSeconds,
        List<StageTime> stageTimes,
        OptionalDouble modelFlopsUtilization) {

    public StepMetrics {
        stageTimes = stageTimes == null ? List.of() : List.copyOf(stageTimes);
        modelFlopsUtilization = modelFlopsUtilization == null ? OptionalDouble.empty() : modelFlopsUtilization;
    }

    /** Figures without the per-stage time split and without MFU. */
    public StepMetrics(
            long step,
            double loss,
            double learningRate,
            double gradNorm,
            double tokensPerSecond,
            double stepSeconds,
            List<Double> stageBusySeconds,
            double bubbleFraction,
            long peakRssBytes,
            List<Double> stageCpuSeconds) {
        this(
                step,
                loss,
                learningRate,
                gradNorm,
                tokensPerSecond,
                stepSeconds,
                stageBusySeconds,
                bubbleFraction,
                peakRssBytes,
                stageCpuSeconds,
                List.of(),
                OptionalDouble.empty());
    }
}
