package dev.trainyard.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** How values look in tables and progress lines. */
public final class Formats {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'");

    private Formats() {}

    /** A UTC timestamp to the second, or null. */
    public static String time(OffsetDateTime t) {
        return t == null ? null : t.withOffsetSameInstant(ZoneOffset.UTC).format(TIME);
    }

    /** "45s", "3m05s", "2h07m". */
    public static String duration(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }

    /** US dollars with 4 decimals below one dollar, 2 above. */
    public static String usd(BigDecimal v) {
        if (v == null) {
            return null;
        }
        int scale = v.abs().compareTo(BigDecimal.ONE) < 0 ? 4 : 2;
        return "$" + v.setScale(scale, RoundingMode.HALF_UP).toPlainString();
    }

    /** Binary units: "512 B", "1.5 KiB", "3.2 MiB". */
    public static String bytes(Long n) {
        if (n == null) {
            return null;
        }
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** A metric value: four decimals, or none for large values such as byte counts. */
    public static String number(Double v) {
        if (v == null) {
            return null;
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 100_000 ? "%.0f" : "%.4f", v);
    }

    public static String steps(Long step, Long total) {
        return (step == null ? 0 : step) + "/" + (total == null ? "?" : total);
    }
}
