package dev.trainyard.runner.engine;

import java.util.List;

/**
 * Figures of one finished step. {@code tokensPerSecond} is the whole job's: the tokens of the step's batch over all
 * data-parallel replicas (which step together) per second of this process's step. {@code stageBusySeconds} is the wall time each stage spent computing in the
 * pipeline phase (not waiting for a neighbour); {@code bubbleFraction} is the share of stage-time spent
 * waiting; {@code stageCpuSeconds} is each stage thread's CPU time in that phase, which, unlike wall time,
 * does not grow when other processes compete for the cores.
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
        List<Double> stageCpuSeconds) {}
