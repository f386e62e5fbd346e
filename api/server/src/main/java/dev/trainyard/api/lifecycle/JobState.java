package dev.trainyard.api.lifecycle;

import java.util.Arrays;

/**
 * The job lifecycle (docs/design/lifecycles.md). {@link #TRANSITIONS} is the single source of truth for the
 * moves; the database checks the terminal-state invariant. The database and API word of a state is its name.
 */
public enum JobState {
    QUEUED,
    SCHEDULED,
    RUNNING,
    PREEMPTED,
    SUCCEEDED,
    FAILED,
    CANCELLED,
    BUDGET_EXHAUSTED;

    /** Every move a job may make. */
    public static final TransitionTable<JobState> TRANSITIONS = TransitionTable.of("job", JobState.class)
            .from(QUEUED, SCHEDULED, CANCELLED, FAILED)
            .from(SCHEDULED, RUNNING, QUEUED, CANCELLED, FAILED, BUDGET_EXHAUSTED)
            .from(RUNNING, SUCCEEDED, FAILED, CANCELLED, BUDGET_EXHAUSTED, PREEMPTED, QUEUED)
            .from(PREEMPTED, QUEUED, CANCELLED, FAILED)
            .build();

    public boolean canMoveTo(JobState next) {
        return TRANSITIONS.allows(this, next);
    }

    public boolean isTerminal() {
        return TRANSITIONS.targets(this).isEmpty();
    }

    /** A job waiting in the queue, with nothing running for it. */
    public boolean isWaiting() {
        return this == QUEUED || this == PREEMPTED;
    }

    /** The word stored in {@code jobs.state} and {@code job_events}. */
    public String word() {
        return name();
    }

    public static JobState ofWord(String word) {
        return Arrays.stream(values())
                .filter(s -> s.word().equals(word))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no job state '" + word + "'"));
    }
}
