package dev.trainyard.spec;

/**
 * The rules of a pool's {@link DataAccessPolicy}; each refusal names one, by its {@link #word()}, so that a user
 * reading a refused submission or a failed job knows which rule to take to the pool's admin.
 */
public enum DataAccessRule {
    /** Only {@code file:} URIs without a host and absolute http(s) URIs may be read. */
    SCHEME("scheme-not-allowed"),
    /** A file must lie under one of the pool's data roots, after resolving every link. */
    OUTSIDE_DATA_ROOTS("outside-data-roots"),
    /** An http(s) host must be on the pool's list of allowed hosts. */
    HOST_NOT_ALLOWED("host-not-allowed"),
    /** Loopback, link-local, private and other non-public addresses, unless the pool allows private networks. */
    PRIVATE_ADDRESS("private-address"),
    /** A download stops at the pool's size cap. */
    SIZE_CAP("size-cap"),
    /** A download follows at most a few redirects, each checked like the first URI. */
    TOO_MANY_REDIRECTS("too-many-redirects");

    private final String word;

    DataAccessRule(String word) {
        this.word = word;
    }

    /** The rule's name as refusals and the docs spell it. */
    public String word() {
        return word;
    }
}
