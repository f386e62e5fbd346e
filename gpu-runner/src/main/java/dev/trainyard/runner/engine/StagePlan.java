package dev.trainyard.runner.engine;

import dev.trainyard.spec.MemoryEstimate;
import dev.trainyard.spec.StageRange;

/** One stage of the chosen plan: its blocks, device, parameter count and estimated peak memory. */
public record StagePlan(StageRange range, String device, long parameters, MemoryEstimate memory) {}
