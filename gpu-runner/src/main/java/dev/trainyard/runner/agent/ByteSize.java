package dev.trainyard.runner.agent;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A size an operator writes: bytes, or a whole number with a binary suffix (k, m, g, t; "8g" is 8 GiB). */
final class ByteSize {
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,19})\\s*([kmgt]?)(i?b)?");

    private ByteSize() {}

    /** The bytes {@code text} names; empty when it is not a positive size or does not fit a long. */
    static Optional<Long> parse(String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return Optional.empty();
        }
        int shift = switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        try {
            long number = Long.parseLong(m.group(1));
            if (number <= 0 || number > (Long.MAX_VALUE >> shift)) {
                return Optional.empty();
            }
            return Optional.of(number << shift);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
