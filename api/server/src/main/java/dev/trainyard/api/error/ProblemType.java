package dev.trainyard.api.error;

/** Stable problem types: clients may switch on {@link #uri()}; the title is for people. */
public enum ProblemType {
    VALIDATION(400, "validation-failed", "The request is not valid"),
    MALFORMED_BODY(400, "malformed-body", "The request body could not be read"),
    BAD_PARAMETER(400, "bad-parameter", "A query or path parameter is not valid"),
    UNAUTHENTICATED(401, "unauthenticated", "A valid bearer token is required"),
    FORBIDDEN(403, "forbidden", "This token may not do that"),
    DATA_ACCESS_DENIED(403, "data-access-denied", "The pool's data access policy does not let its jobs read that"),
    NOT_FOUND(404, "not-found", "Not found"),
    METHOD_NOT_ALLOWED(405, "method-not-allowed", "Method not allowed"),
    NOT_ACCEPTABLE(406, "not-acceptable", "Not acceptable"),
    INVALID_STATE(409, "invalid-state", "The resource is not in a state that allows this"),
    ALREADY_EXISTS(409, "already-exists", "A resource with that name already exists"),
    STALE_ATTEMPT(409, "stale-attempt", "This attempt is no longer current"),
    CHECKSUM_MISMATCH(400, "checksum-mismatch", "The upload does not match its declared SHA-256"),
    IDEMPOTENCY_MISMATCH(422, "idempotency-key-reused", "The idempotency key was used for a different request"),
    PAYLOAD_TOO_LARGE(413, "payload-too-large", "The request body is too large"),
    UNSUPPORTED_MEDIA_TYPE(415, "unsupported-media-type", "Unsupported media type"),
    HEADERS_TOO_LARGE(431, "headers-too-large", "The request's headers are too large"),
    URI_TOO_LONG(414, "uri-too-long", "The request's URI is too long"),
    INTERNAL(500, "internal", "Internal server error"),
    UNAVAILABLE(503, "unavailable", "The service is briefly unavailable; retry after the time in Retry-After");

    private final int status;
    private final String slug;
    private final String title;

    ProblemType(int status, String slug, String title) {
        this.status = status;
        this.slug = slug;
        this.title = title;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    /** A relative URI reference, resolvable against the server: documented under /docs/problems. */
    public String uri() {
        return "/problems/" + slug;
    }

    /** The problem type a plain HTTP status maps to when no domain error was raised. */
    public static ProblemType forStatus(int status) {
        return switch (status) {
            case 401 -> UNAUTHENTICATED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 406 -> NOT_ACCEPTABLE;
            case 409 -> INVALID_STATE;
            case 413 -> PAYLOAD_TOO_LARGE;
            case 414 -> URI_TOO_LONG;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 431 -> HEADERS_TOO_LARGE;
            case 503 -> UNAVAILABLE;
            default -> status >= 500 ? INTERNAL : MALFORMED_BODY;
        };
    }
}
