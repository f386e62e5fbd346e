package dev.trainyard.system.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** What the benchmarks print: latency percentiles, small Markdown tables and the machine's load average. */
final class Figures {
    private Figures() {}

    /** The 1-, 5- and 15-minute load averages from /proc/loadavg, as printed by uptime. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + ", " + f[1] + ", " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Nearest-rank percentile of nanosecond samples, in milliseconds. */
    static double percentileMs(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sortedNanos.length);
        return sortedNanos[Math.max(0, Math.min(sortedNanos.length - 1, rank - 1))] / 1e6;
    }

    static long[] sorted(List<Long> nanos) {
        long[] a = nanos.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a;
    }

    static String ms(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    static String num(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    static void header(String benchmark) {
        System.out.println();
        System.out.println("== " + benchmark + " ==");
        System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + System.getProperty("java.version") + "; load average at start: " + loadAverage());
    }

    static void footer() {
        System.out.println("load average at end: " + loadAverage());
        System.out.println("(shared machine: figures are noisy; compare nothing across runs)");
    }

    /** A Markdown table, printed when complete. */
    static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        Table(String... columns) {
            rows.add(columns);
        }

        Table row(Object... cells) {
            rows.add(Arrays.stream(cells).map(String::valueOf).toArray(String[]::new));
            return this;
        }

        void print() {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < rows.size(); i++) {
                out.append("| ").append(String.join(" | ", rows.get(i))).append(" |\n");
                if (i == 0) {
                    out.append("|").append(" ---: |".repeat(rows.get(0).length)).append('\n');
                }
            }
            System.out.print(out);
        }
    }
}
