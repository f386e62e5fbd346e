package dev.trainyard.spec;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The numeric bounds and allowed words that a record component's {@code @Schema} declares. Validators read them
 * here instead of repeating the numbers, so the OpenAPI document (written from the same annotations) states exactly
 * what is enforced: changing a bound means changing the annotation, and both follow.
 *
 * @param minimum the lowest allowed value, or null for none
 * @param maximum the highest allowed value, or null for none
 * @param exclusiveMinimum whether {@code minimum} itself is refused
 * @param exclusiveMaximum whether {@code maximum} itself is refused
 * @param allowed the allowed words, empty for any
 */
public record SchemaBounds(
        Double minimum, Double maximum, boolean exclusiveMinimum, boolean exclusiveMaximum, List<String> allowed) {

    private static final Map<String, SchemaBounds> CACHE = new ConcurrentHashMap<>();

    /** The bounds of {@code record}'s component {@code component}; fails when it declares none (a typo). */
    public static SchemaBounds of(Class<? extends Record> record, String component) {
        return CACHE.computeIfAbsent(record.getName() + "#" + component, k -> read(record, component));
    }

    private static SchemaBounds read(Class<? extends Record> record, String component) {
        RecordComponent found = Arrays.stream(record.getRecordComponents())
                .filter(c -> c.getName().equals(component))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(record.getName() + " has no component " + component));
        Schema schema = found.getAccessor().getAnnotation(Schema.class);
        if (schema == null) {
            schema = found.getAnnotation(Schema.class);
        }
        if (schema == null
                || schema.minimum().isEmpty() && schema.maximum().isEmpty() && schema.enumeration().length == 0) {
            throw new IllegalArgumentException(
                    record.getSimpleName() + "." + component + " declares no minimum, maximum or enumeration");
        }
        return new SchemaBounds(
                schema.minimum().isEmpty() ? null : Double.valueOf(schema.minimum()),
                schema.maximum().isEmpty() ? null : Double.valueOf(schema.maximum()),
                schema.exclusiveMinimum(),
                schema.exclusiveMaximum(),
                List.of(schema.enumeration()));
    }

    /** True when a number lies within the bounds (NaN never does). */
    public boolean admits(double value) {
        if (Double.isNaN(value)) {
            return false;
        }
        boolean aboveMin = minimum == null || (exclusiveMinimum ? value > minimum : value >= minimum);
        boolean belowMax = maximum == null || (exclusiveMaximum ? value < maximum : value <= maximum);
        return aboveMin && belowMax;
    }

    /** True when a word is one of the allowed ones (or any word is). */
    public boolean admits(String value) {
        return allowed.isEmpty() || allowed.contains(value);
    }

    /** The rule in words, for a violation's message: "between 1 and 512", "above 0 and below 0.5". */
    public String describeRange() {
        String low = minimum == null ? null : (exclusiveMinimum ? "above " : "at least ") + format(minimum);
        String high = maximum == null ? null : (exclusiveMaximum ? "below " : "at most ") + format(maximum);
        if (low != null && high != null && !exclusiveMinimum && !exclusiveMaximum) {
            return "between " + format(minimum) + " and " + format(maximum);
        }
        return low == null ? high : high == null ? low : low + " and " + high;
    }

    static String format(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
