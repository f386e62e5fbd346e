package dev.trainyard.cli;

import java.util.Set;

/** Which job states are final, as the API's state machine defines them. */
public final class JobStates {
    private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED", "BUDGET_EXHAUSTED");

    private JobStates() {}

    public static boolean isTerminal(String state) {
        return state != null && TERMINAL.contains(state);
    }
}
