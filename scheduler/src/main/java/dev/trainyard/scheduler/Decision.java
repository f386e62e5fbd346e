package dev.trainyard.scheduler;

import java.util.List;

/**
 * What one cycle decided: jobs to start, attempts to preempt, stop for budget or grow, and why every other queued
 * job waits; all lists are in a deterministic order and {@code waiting} lists jobs in queue order.
 */
public record Decision(
        List<Placement> placements,
        List<Preemption> preemptions,
        List<BudgetStop> budgetStops,
        List<Resize> resizes,
        List<WaitingJob> waiting) {

    public Decision {
        placements = List.copyOf(placements);
        preemptions = List.copyOf(preemptions);
        budgetStops = List.copyOf(budgetStops);
        resizes = List.copyOf(resizes);
        waiting = List.copyOf(waiting);
    }
}
