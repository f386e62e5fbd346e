package dev.trainyard.runner.engine;

/** The per-step inputs besides the batch: indices for seeding and bias correction, rates, clipping. */
public record StepParameters(
        long step, long optimizerStep, long seed, double learningRate, double weightDecay, double gradClip) {}
