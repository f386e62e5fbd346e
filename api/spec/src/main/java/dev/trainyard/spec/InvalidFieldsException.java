package dev.trainyard.spec;

import java.util.List;

/** A document (a job spec, or another request body) with one or more invalid fields, each named by its path. */
public final class InvalidFieldsException extends IllegalArgumentException {
    private final List<FieldViolation> violations;

    public InvalidFieldsException(List<FieldViolation> violations) {
        super(summary(violations));
        this.violations = List.copyOf(violations);
    }

    /** Every violation found, in the order they were found. */
    public List<FieldViolation> violations() {
        return violations;
    }

    private static String summary(List<FieldViolation> found) {
        FieldViolation first = found.get(0);
        return found.size() == 1
                ? first.field() + ": " + first.message()
                : found.size() + " fields are invalid; the first is " + first.field() + ": " + first.message();
    }
}
