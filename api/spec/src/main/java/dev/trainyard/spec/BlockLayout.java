package dev.trainyard.spec;

/**
 * One block of a model as the planner sees it: its parameter count, the floats it keeps for backward per
 * sample, and the floats of its output per sample (what crosses to the next stage).
 */
public record BlockLayout(
        int index, String kind, long parameters, long activationFloatsPerSample, long outputFloatsPerSample) {}
