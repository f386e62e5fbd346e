package dev.trainyard.api.lifecycle;

import java.util.Arrays;

/**
 * The runner lifecycle (docs/design/lifecycles.md). Registering again makes any runner ACTIVE (it restarted);
 * an admin drains it; the rescuer declares a silent one LOST. The database word of a state is its name.
 */
public enum RunnerState {
    REGISTERED,
    ACTIVE,
    DRAINING,
    OFFLINE,
    LOST;

    /** Every move a runner may make. */
    public static final TransitionTable<RunnerState> TRANSITIONS = TransitionTable.of("runner", RunnerState.class)
            .from(REGISTERED, ACTIVE, DRAINING, LOST)
            .from(ACTIVE, ACTIVE, DRAINING, LOST)
            .from(DRAINING, ACTIVE, DRAINING, OFFLINE, LOST)
            .from(OFFLINE, ACTIVE)
            .from(LOST, ACTIVE)
            .build();

    /** Whether the runner still counts as present: heartbeats are accepted and it may be drained or lost. */
    public boolean isPresent() {
        return this == REGISTERED || this == ACTIVE || this == DRAINING;
    }

    /** The word stored in {@code runners.state} and shown in the API. */
    public String word() {
        return name();
    }

    public static RunnerState ofWord(String word) {
        return Arrays.stream(values())
                .filter(s -> s.word().equals(word))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no runner state '" + word + "'"));
    }
}
