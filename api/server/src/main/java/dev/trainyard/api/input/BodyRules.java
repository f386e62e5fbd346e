package dev.trainyard.api.input;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trainyard.spec.FieldViolation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The rules every value of every request body meets before any service sees it: strings hold no NUL and only whole
 * Unicode characters, and stay within their declared {@code @Schema} length and pattern (or {@link #DEFAULT_MAX_LENGTH}
 * where none is declared); numbers are finite and fit the database's decimals. The same annotations write the OpenAPI
 * document, so the document states the rules that are enforced.
 */
public final class BodyRules {
    /** The bound of a string whose schema declares none: longer than any name, path or message the API stores. */
    public static final int DEFAULT_MAX_LENGTH = 4096;

    /** Amounts are stored as numeric(16, 6); more digits than this are a mistake, not a value. */
    static final int MAX_DECIMAL_PRECISION = 38;

    static final int MAX_DECIMAL_SCALE = 18;

    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    private final List<FieldViolation> found = new ArrayList<>();

    private BodyRules() {}

    /** Every violation in this body, each named by its JSON path; empty when the body keeps the rules. */
    public static List<FieldViolation> check(Object body) {
        BodyRules rules = new BodyRules();
        rules.visit("", body, null);
        return rules.found;
    }

    private void visit(String path, Object value, Schema schema) {
        if (value == null) {
            return;
        }
        if (value instanceof String s) {
            checkText(path, s, schema);
        } else if (value instanceof Double d) {
            checkFinite(path, d);
        } else if (value instanceof Float f) {
            checkFinite(path, f.doubleValue());
        } else if (value instanceof BigDecimal d) {
            checkDecimal(path, d);
        } else if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                visit(path + "[" + i + "]", list.get(i), null);
            }
        } else if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> {
                String key = String.valueOf(k);
                checkText(path.isEmpty() ? "$" : path, key, null);
                visit(join(path, key), v, null);
            });
        } else if (value instanceof JsonNode node) {
            visitTree(path, node);
        } else if (value.getClass().isRecord()) {
            visitRecord(path, value);
        }
    }

    private void visitRecord(String path, Object record) {
        for (RecordComponent component : record.getClass().getRecordComponents()) {
            Object child;
            try {
                child = component.getAccessor().invoke(record);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("cannot read " + component, e);
            }
            visit(
                    join(path, component.getName()),
                    child,
                    component.getAccessor().getAnnotation(Schema.class));
        }
    }

    private void visitTree(String path, JsonNode node) {
        if (node.isTextual()) {
            checkText(path, node.textValue(), null);
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                visitTree(path + "[" + i + "]", node.get(i));
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                checkText(path.isEmpty() ? "$" : path, field.getKey(), null);
                visitTree(join(path, field.getKey()), field.getValue());
            }
        } else if (node.isNumber()) {
            visit(path, node.isBigDecimal() ? node.decimalValue() : (Object) node.doubleValue(), null);
        }
    }

    private void checkText(String path, String s, Schema schema) {
        String field = path.isEmpty() ? "$" : path;
        int max = schema != null && schema.maxLength() != Integer.MAX_VALUE ? schema.maxLength() : DEFAULT_MAX_LENGTH;
        if (s.indexOf('\0') >= 0) {
            found.add(new FieldViolation(field, "must not contain NUL characters"));
        } else if (!wholeUnicode(s)) {
            found.add(new FieldViolation(field, "must be valid Unicode (a surrogate is unpaired)"));
        } else if (s.length() > max) {
            found.add(new FieldViolation(field, "must be at most " + max + " characters, has " + s.length()));
        } else if (schema != null && s.length() < schema.minLength()) {
            found.add(new FieldViolation(field, "must be at least " + schema.minLength() + " characters"));
        } else if (schema != null && !schema.pattern().isEmpty() && !matches(schema.pattern(), s)) {
            found.add(new FieldViolation(field, "must match " + schema.pattern()));
        }
    }

    private void checkFinite(String path, double d) {
        if (!Double.isFinite(d)) {
            found.add(new FieldViolation(path.isEmpty() ? "$" : path, "must be a finite number"));
        }
    }

    private void checkDecimal(String path, BigDecimal d) {
        if (d.precision() > MAX_DECIMAL_PRECISION || Math.abs(d.scale()) > MAX_DECIMAL_SCALE) {
            found.add(new FieldViolation(
                    path.isEmpty() ? "$" : path,
                    "must have at most " + MAX_DECIMAL_PRECISION + " digits, " + MAX_DECIMAL_SCALE
                            + " of them after the point"));
        }
    }

    private static boolean wholeUnicode(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean matches(String pattern, String s) {
        return PATTERNS.computeIfAbsent(pattern, Pattern::compile).matcher(s).matches();
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }
}
