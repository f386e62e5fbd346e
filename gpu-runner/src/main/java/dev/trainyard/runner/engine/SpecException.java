package dev.trainyard.runner.engine;

/** A job spec that cannot be trained as written; the message names the offending key. */
public final class SpecException extends IllegalArgumentException {

    public SpecException(String message) {
        super(message);
    }

    public SpecException(String message, Throwable cause) {
        super(message, cause);
    }

    static void require(boolean condition, String message) {
        if (!condition) {
            throw new SpecException(message);
        }
    }
}
