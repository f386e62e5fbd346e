package dev.trainyard.api.lifecycle;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The legal moves of one state machine. Every write of a state asks {@link #check} first; the SQL that follows
 * still guards on the state it expects, which is what keeps concurrent writers from overwriting each other.
 */
public final class TransitionTable<S extends Enum<S>> {
    private final String machine;
    private final Map<S, Set<S>> next;

    private TransitionTable(String machine, Map<S, Set<S>> next) {
        this.machine = machine;
        this.next = next;
    }

    /** Starts a table for the machine named {@code machine} (used in refusals); every state begins with no moves. */
    public static <S extends Enum<S>> Builder<S> of(String machine, Class<S> states) {
        return new Builder<>(machine, states);
    }

    public boolean allows(S from, S to) {
        return next.get(from).contains(to);
    }

    /** The states {@code from} may move to; empty for a terminal state. */
    public Set<S> targets(S from) {
        return Collections.unmodifiableSet(next.get(from));
    }

    /** Refuses a move the table does not list. */
    public void check(S from, S to) {
        if (!allows(from, to)) {
            throw new IllegalTransition(machine, from.name(), to.name());
        }
    }

    /** Collects the moves of a table. */
    public static final class Builder<S extends Enum<S>> {
        private final String machine;
        private final Map<S, Set<S>> next;
        private final Class<S> states;

        private Builder(String machine, Class<S> states) {
            this.machine = machine;
            this.states = states;
            this.next = new EnumMap<>(states);
            for (S s : states.getEnumConstants()) {
                next.put(s, EnumSet.noneOf(states));
            }
        }

        @SafeVarargs
        public final Builder<S> from(S from, S... to) {
            next.get(from).addAll(Set.of(to));
            return this;
        }

        public TransitionTable<S> build() {
            Map<S, Set<S>> frozen = new EnumMap<>(states);
            next.forEach((from, to) -> frozen.put(from, Collections.unmodifiableSet(EnumSet.copyOf(to))));
            return new TransitionTable<>(machine, frozen);
        }
    }
}
