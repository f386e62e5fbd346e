package dev.trainyard.cli;

/** The process exit codes of every command, so that scripts can tell failures apart. */
public final class ExitCodes {
    public static final int OK = 0;
    /** Anything else: the server failed, the network, a failed job. */
    public static final int FAILURE = 1;
    /** Wrong arguments, or a request the API rejected as invalid (400). */
    public static final int USAGE = 2;
    /** Missing, invalid or insufficient token (401, 403), or not logged in. */
    public static final int AUTH = 3;

    public static final int NOT_FOUND = 4;
    /** The resource is not in a state that allows this (409). */
    public static final int CONFLICT = 5;

    private ExitCodes() {}

    /** The exit code for an HTTP error status. */
    public static int forStatus(int status) {
        return switch (status) {
            case 400, 413, 415, 416, 422 -> USAGE;
            case 401, 403 -> AUTH;
            case 404 -> NOT_FOUND;
            case 409 -> CONFLICT;
            default -> FAILURE;
        };
    }

    /**
     * The exit code of {@code submit --wait} for a job's final state: 0 when it succeeded, 1 when it failed, 2 when it
     * was stopped (cancelled or out of budget).
     */
    public static int forFinalState(String state) {
        return switch (state) {
            case "SUCCEEDED" -> OK;
            case "CANCELLED", "BUDGET_EXHAUSTED" -> 2;
            default -> FAILURE;
        };
    }
}
