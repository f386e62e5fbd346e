package dev.trainyard.cli;

/** A failure the command line detected itself, with the message for people and the exit code for scripts. */
public class CliFailure extends RuntimeException {
    private final int exitCode;

    public CliFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
