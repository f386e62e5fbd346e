package dev.trainyard.api.error;

import dev.trainyard.spec.FieldViolation;
import dev.trainyard.spec.LayoutSearch;
import java.util.List;

/**
 * The domain errors the API answers with: each kind has a stable problem type and HTTP status, and is mapped
 * to application/problem+json at the edge by {@link ProblemMappers}.
 */
public abstract sealed class ApiException extends RuntimeException
        permits ApiException.NotFound,
                ApiException.Conflict,
                ApiException.InvalidInput,
                ApiException.Unauthenticated,
                ApiException.Forbidden {

    private final ProblemType type;

    ApiException(ProblemType type, String detail) {
        super(detail);
        this.type = type;
    }

    public ProblemType type() {
        return type;
    }

    /** Field-level problems, empty unless this is a validation error. */
    public List<FieldViolation> violations() {
        return List.of();
    }

    /** A layout of the job that would fit, when the one asked for does not; null otherwise. */
    public LayoutSearch.Proposal proposal() {
        return null;
    }

    /** The resource does not exist, or the caller may not know that it exists. */
    public static final class NotFound extends ApiException {
        public NotFound(String what, Object id) {
            super(ProblemType.NOT_FOUND, what + " '" + id + "' was not found");
        }
    }

    /** The request is valid but clashes with the current state of the resource. */
    public static final class Conflict extends ApiException {
        public Conflict(ProblemType type, String detail) {
            super(type, detail);
        }
    }

    /** The request is malformed or fails validation; nothing was changed. */
    public static final class InvalidInput extends ApiException {
        private final List<FieldViolation> violations;
        private final LayoutSearch.Proposal proposal;

        public InvalidInput(String detail, List<FieldViolation> violations) {
            this(ProblemType.VALIDATION, detail, violations);
        }

        public InvalidInput(ProblemType type, String detail, List<FieldViolation> violations) {
            this(type, detail, violations, null);
        }

        private InvalidInput(
                ProblemType type, String detail, List<FieldViolation> violations, LayoutSearch.Proposal proposal) {
            super(type, detail);
            this.violations = List.copyOf(violations);
            this.proposal = proposal;
        }

        public InvalidInput(ProblemType type, String detail) {
            this(type, detail, List.of());
        }

        public static InvalidInput of(String field, String message) {
            return new InvalidInput(field + ": " + message, List.of(new FieldViolation(field, message)));
        }

        /** A field's problem together with a layout that would avoid it (null when none would). */
        public static InvalidInput of(String field, String message, LayoutSearch.Proposal proposal) {
            return new InvalidInput(
                    ProblemType.VALIDATION,
                    field + ": " + message,
                    List.of(new FieldViolation(field, message)),
                    proposal);
        }

        @Override
        public List<FieldViolation> violations() {
            return violations;
        }

        @Override
        public LayoutSearch.Proposal proposal() {
            return proposal;
        }
    }

    /** No valid bearer token was presented. */
    public static final class Unauthenticated extends ApiException {
        public Unauthenticated(String detail) {
            super(ProblemType.UNAUTHENTICATED, detail);
        }
    }

    /** The token is valid but its role may not do this. */
    public static final class Forbidden extends ApiException {
        public Forbidden(String detail) {
            super(ProblemType.FORBIDDEN, detail);
        }
    }
}
