package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.util.List;

/**
 * Start a queued job (guarded by {@code jobVersion}) on the given runners of one pool, {@code gpus} in total;
 * {@code worstCaseCostUsd} is the amount the budget check reserved for it.
 */
public record Placement(
        long jobId, long jobVersion, long poolId, List<NodeAssignment> nodes, int gpus, BigDecimal worstCaseCostUsd) {

    public Placement {
        nodes = List.copyOf(nodes);
    }
}
