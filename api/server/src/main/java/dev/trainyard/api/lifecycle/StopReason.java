package dev.trainyard.api.lifecycle;

import java.util.Arrays;

/**
 * Why the platform asked a live attempt to checkpoint and stop. Each reason has its word in
 * {@code attempts.stop_reason}, its word in the runner protocol, the attempt state it puts the attempt in, and
 * the job event that records the request (none for a cancel: the user's request is the job's own change).
 */
public enum StopReason {
    CANCEL("CANCELLED", "CANCEL", AttemptState.STOPPING, null),
    PREEMPT("PREEMPTED", "PREEMPT", AttemptState.PREEMPTING, EventReason.PREEMPTION_REQUESTED),
    GROW("RESIZE", "RESIZE", AttemptState.PREEMPTING, EventReason.GROWTH_REQUESTED),
    BUDGET("BUDGET_EXHAUSTED", "BUDGET", AttemptState.STOPPING, EventReason.BUDGET_STOP_REQUESTED),
    RUNTIME_LIMIT(
            "RUNTIME_LIMIT_REACHED", "RUNTIME_LIMIT", AttemptState.STOPPING, EventReason.RUNTIME_LIMIT_STOP_REQUESTED),
    /** The runner is stopping on purpose: the job resumes elsewhere from the checkpoint, using no restart. */
    RUNNER_STOP("RUNNER_STOPPED", "RUNNER_STOP", AttemptState.PREEMPTING, EventReason.RUNNER_STOP_REQUESTED);

    private final String word;
    private final String protocolWord;
    private final AttemptState attemptState;
    private final EventReason event;

    StopReason(String word, String protocolWord, AttemptState attemptState, EventReason event) {
        this.word = word;
        this.protocolWord = protocolWord;
        this.attemptState = attemptState;
        this.event = event;
    }

    /** The word stored in {@code attempts.stop_reason}. */
    public String word() {
        return word;
    }

    /** The word runners read in an assignment's or an answer's {@code stop}. */
    public String protocolWord() {
        return protocolWord;
    }

    /** The state an attempt asked to stop for this reason is in until it ends. */
    public AttemptState attemptState() {
        return attemptState;
    }

    /** The job event recording the request, or null when none is written. */
    public EventReason event() {
        return event;
    }

    /** The reason stored as {@code word}; null for null (no stop asked). */
    public static StopReason ofWord(String word) {
        if (word == null) {
            return null;
        }
        return Arrays.stream(values())
                .filter(r -> r.word.equals(word))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no stop reason '" + word + "'"));
    }

    /** The protocol word for a stored stop reason, or null when no stop was asked. */
    public static String protocolWordOf(String word) {
        StopReason reason = ofWord(word);
        return reason == null ? null : reason.protocolWord;
    }
}
