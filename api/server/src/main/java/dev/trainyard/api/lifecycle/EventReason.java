package dev.trainyard.api.lifecycle;

/**
 * The machine-readable reason of a {@code job_events} row, which the API, the streams and the dashboard show.
 * Reasons that explain the state a job ends up in are also stored as the job's {@code state_reason}.
 */
public enum EventReason {
    SUBMITTED(false),
    PLACED(false),
    STARTED(false),
    COMPLETED(true),
    TRAINING_FAILED(true),
    /** The loss diverged on the runner; the event and the job carry the step and the loss as data. */
    TRAINING_DIVERGED(true),
    CANCELLED_BY_USER(true),
    PREEMPTED(true),
    REQUEUED_AFTER_PREEMPTION(true),
    REQUEUED_TO_GROW(true),
    BUDGET_EXHAUSTED(true),
    RUNTIME_LIMIT_REACHED(true),
    RUNNER_LOST(true),
    REQUEUED_RUNNER_STOPPED(true),
    RESTARTS_EXHAUSTED(true),
    PREEMPTION_REQUESTED(false),
    GROWTH_REQUESTED(false),
    BUDGET_STOP_REQUESTED(false),
    RUNTIME_LIMIT_STOP_REQUESTED(false),
    RUNNER_STOP_REQUESTED(false),
    /** A job placed again on another device count than its previous attempt's (elastic growth or shrinking). */
    RESIZED(false);

    private final boolean explainsState;

    EventReason(boolean explainsState) {
        this.explainsState = explainsState;
    }

    /** The word stored in {@code job_events.reason} and {@code jobs.state_reason}. */
    public String word() {
        return name();
    }

    /** What a move for this reason stores as the job's {@code state_reason}: the word, or null. */
    public String stateReason() {
        return explainsState ? word() : null;
    }
}
