package dev.trainyard.api.lifecycle;

import java.util.Arrays;
import java.util.List;

/**
 * The attempt lifecycle (docs/design/lifecycles.md): placed STARTING, RUNNING once the runner starts training,
 * PREEMPTING or STOPPING once asked to checkpoint and stop, ENDED. The database word of a state is its name.
 */
public enum AttemptState {
    STARTING,
    RUNNING,
    PREEMPTING,
    STOPPING,
    ENDED;

    /** Every move an attempt may make. */
    public static final TransitionTable<AttemptState> TRANSITIONS = TransitionTable.of("attempt", AttemptState.class)
            .from(STARTING, RUNNING, PREEMPTING, STOPPING, ENDED)
            .from(RUNNING, PREEMPTING, STOPPING, ENDED)
            // a cancel overrides a preemption in flight: the job must end CANCELLED, not go back to the queue
            .from(PREEMPTING, STOPPING, ENDED)
            .from(STOPPING, ENDED)
            .build();

    /** The states from which the platform may still ask an attempt to stop for preemption, growth or budget. */
    public static final List<AttemptState> STOPPABLE = List.of(STARTING, RUNNING);

    /** The live states of an attempt asked to checkpoint and stop: it runs only until its grace period ends. */
    public static final List<AttemptState> ASKED_TO_STOP = List.of(PREEMPTING, STOPPING);

    /** The word stored in {@code attempts.state}, and shown to runners in their assignments. */
    public String word() {
        return name();
    }

    public static AttemptState ofWord(String word) {
        return Arrays.stream(values())
                .filter(s -> s.word().equals(word))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no attempt state '" + word + "'"));
    }
}
