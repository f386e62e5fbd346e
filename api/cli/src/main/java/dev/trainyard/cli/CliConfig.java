package dev.trainyard.cli;

/** Where the API is and the bearer token to use; either may be null when not configured. */
public record CliConfig(String api, String token) {
    public static final CliConfig EMPTY = new CliConfig(null, null);

    /** This configuration with each value that {@code other} has replacing this one's. */
    public CliConfig overriddenBy(CliConfig other) {
        return new CliConfig(present(other.api) ? other.api : api, present(other.token) ? other.token : token);
    }

    public boolean complete() {
        return present(api) && present(token);
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }
}
