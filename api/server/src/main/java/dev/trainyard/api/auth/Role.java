package dev.trainyard.api.auth;

/** What a token may do: ADMIN everything, MEMBER its own project's jobs, RUNNER only runner endpoints. */
public enum Role {
    ADMIN,
    MEMBER,
    RUNNER
}
