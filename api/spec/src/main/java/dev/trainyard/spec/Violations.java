package dev.trainyard.spec;

import java.util.ArrayList;
import java.util.List;

/** Collects every problem of a request so that the caller hears about all of them at once. */
public final class Violations {
    /** Names of projects and pools: they appear in URLs, so lower-case letters, digits and '-'. */
    public static final String RESOURCE_NAME_PATTERN = "^[a-z0-9][a-z0-9-]{0,62}$";

    public static final java.util.regex.Pattern RESOURCE_NAME = java.util.regex.Pattern.compile(RESOURCE_NAME_PATTERN);

    private final List<FieldViolation> found = new ArrayList<>();

    public void add(String field, String message) {
        found.add(new FieldViolation(field, message));
    }

    public boolean isEmpty() {
        return found.isEmpty();
    }

    /** Requires a present value; records a violation and returns false when it is missing. */
    public boolean require(String field, Object value) {
        if (value == null) {
            add(field, "is required");
            return false;
        }
        return true;
    }

    /** A present project or pool name must follow {@link #RESOURCE_NAME}. */
    public void checkResourceName(String field, String value) {
        if (value != null && !RESOURCE_NAME.matcher(value).matches()) {
            add(field, "must be lower-case letters, digits and '-', starting with a letter or digit, up to 63");
        }
    }

    public void checkRange(String field, Number value, double min, double max) {
        if (value != null
                && (Double.isNaN(value.doubleValue()) || value.doubleValue() < min || value.doubleValue() > max)) {
            add(field, "must be between " + format(min) + " and " + format(max) + ", was " + value);
        }
    }

    /** A present number must meet the minimum and maximum of {@code record.component}'s {@code @Schema}. */
    public void checkBounds(String field, Number value, Class<? extends Record> record, String component) {
        SchemaBounds bounds = SchemaBounds.of(record, component);
        if (value != null && !bounds.admits(value.doubleValue())) {
            add(field, "must be " + bounds.describeRange() + ", was " + value);
        }
    }

    /** A present word must be one of the enumeration of {@code record.component}'s {@code @Schema}. */
    public void checkAllowed(String field, String value, Class<? extends Record> record, String component) {
        checkOneOf(field, value, SchemaBounds.of(record, component).allowed());
    }

    public void checkOneOf(String field, String value, List<String> allowed) {
        if (value != null && !allowed.contains(value)) {
            add(field, "must be one of " + String.join(", ", allowed) + ", was '" + value + "'");
        }
    }

    /** Throws the collected violations as one {@link InvalidFieldsException}, if there are any. */
    public void throwIfAny() {
        if (!found.isEmpty()) {
            throw new InvalidFieldsException(found);
        }
    }

    private static String format(double v) {
        return SchemaBounds.format(v);
    }
}
