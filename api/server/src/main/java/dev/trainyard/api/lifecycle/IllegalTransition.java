package dev.trainyard.api.lifecycle;

/** A write asked for a move that its machine's transition table does not allow; nothing was written. */
public final class IllegalTransition extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public IllegalTransition(String machine, String from, String to) {
        super(machine + " cannot move from " + from + " to " + to);
    }
}
