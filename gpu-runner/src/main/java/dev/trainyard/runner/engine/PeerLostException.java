package dev.trainyard.runner.engine;

/**
 * A data-parallel peer process did not answer: it died, hung past the group's timeout (or until the run was
 * abandoned), or never joined. The
 * training itself did nothing wrong, so a platform can run the attempt again elsewhere rather than fail the job.
 */
public final class PeerLostException extends RuntimeException {

    public PeerLostException(String message) {
        super(message);
    }

    public PeerLostException(String message, Throwable cause) {
        super(message, cause);
    }

    /** True when {@code failure} or one of its causes is a lost peer. */
    public static boolean causedBy(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PeerLostException) {
                return true;
            }
        }
        return false;
    }
}
