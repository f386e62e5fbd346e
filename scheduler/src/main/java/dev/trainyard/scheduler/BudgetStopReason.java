package dev.trainyard.scheduler;

/** Which limit a budget stop enforces. */
public enum BudgetStopReason {
    /** The job's accrued cost reached its {@code maxCostUsd}. */
    MAX_COST_REACHED,
    /** The project's spending reached its budget. */
    PROJECT_BUDGET_REACHED
}
