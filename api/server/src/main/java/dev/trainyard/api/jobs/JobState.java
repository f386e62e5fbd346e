package dev.trainyard.api.jobs;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The job lifecycle (docs/design/lifecycles.md). The transition table is the single source of truth; the
 * database checks the terminal-state invariant.
 */
public enum JobState {
    QUEUED, SCHEDULED, RUNNING, PREEMPTED, SUCCEEDED, FAILED, CANCELLED, BUDGET_EXHAUSTED;

    private static final Map<JobState, Set<JobState>> NEXT = Map.of(
            QUEUED, EnumSet.of(SCHEDULED, CANCELLED, FAILED),
            SCHEDULED, EnumSet.of(RUNNING, QUEUED, CANCELLED, FAILED, BUDGET_EXHAUSTED),
            RUNNING, EnumSet.of(SUCCEEDED, FAILED, CANCELLED, BUDGET_EXHAUSTED, PREEMPTED, QUEUED),
            PREEMPTED, EnumSet.of(QUEUED, CANCELLED, FAILED),
            SUCCEEDED, EnumSet.noneOf(JobState.class),
            FAILED, EnumSet.noneOf(JobState.class),
            CANCELLED, EnumSet.noneOf(JobState.class),
            BUDGET_EXHAUSTED, EnumSet.noneOf(JobState.class));

    public boolean canMoveTo(JobState next) {
        return NEXT.get(this).contains(next);
    }

    public boolean isTerminal() {
        return NEXT.get(this).isEmpty();
    }

    /** A job waiting in the queue, with nothing running for it. */
    public boolean isWaiting() {
        return this == QUEUED || this == PREEMPTED;
    }
}
