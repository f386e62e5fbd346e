package dev.trainyard.runner.engine;

/** A checkpoint that is incomplete, altered or unreadable; it is refused rather than half-loaded. */
public final class CheckpointIntegrityException extends RuntimeException {

    public CheckpointIntegrityException(String message) {
        super(message);
    }

    public CheckpointIntegrityException(String message, Throwable cause) {
        super(message, cause);
    }
}
