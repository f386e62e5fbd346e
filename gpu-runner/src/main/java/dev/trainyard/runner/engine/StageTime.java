package dev.trainyard.runner.engine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where one pipeline stage's step went, in wall seconds on its thread: computing (forward, backward, recomputation,
 * gradient norms, the optimizer), the pipeline bubble (waiting for a neighbour's activation or gradient, or for the
 * other stages at the clipping barrier) and communication (data-parallel and tensor-parallel collectives, with the
 * packing around them). {@code wallSeconds} is the stage thread's whole step; the engine's parts cover it without
 * gaps, so they add up to it.
 */
public record StageTime(double computeSeconds, double bubbleSeconds, double communicationSeconds, double wallSeconds) {

    /** What the three parts leave of the wall time: zero but for rounding when the parts cover the step. */
    public double unaccountedSeconds() {
        return wallSeconds - computeSeconds - bubbleSeconds - communicationSeconds;
    }

    /**
     * The split as metric points named {@code stage<s>.compute_seconds}, {@code stage<s>.bubble_seconds} and
     * {@code stage<s>.comm_seconds}, stage by stage (names the API accepts: a-z, 0-9, '_', '.').
     */
    public static Map<String, Double> asMetrics(List<StageTime> stages) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        for (int s = 0; s < stages.size(); s++) {
            StageTime t = stages.get(s);
            metrics.put("stage" + s + ".compute_seconds", t.computeSeconds());
            metrics.put("stage" + s + ".bubble_seconds", t.bubbleSeconds());
            metrics.put("stage" + s + ".comm_seconds", t.communicationSeconds());
        }
        return metrics;
    }
}
