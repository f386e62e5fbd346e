package dev.trainyard.runner.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process from /proc (Linux): current, and peak since the last reset. */
public final class PeakMemory {

    private PeakMemory() {}

    /** Current resident set size in bytes (VmRSS), or 0 when unknown. */
    public static long rssBytes() {
        return statusField("VmRSS:");
    }

    /** Peak resident set size in bytes (VmHWM), or 0 when unknown. */
    public static long peakRssBytes() {
        return statusField("VmHWM:");
    }

    /** Resets the peak to the current size, so a run reports its own peak rather than the JVM's. */
    public static void resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // Not permitted or not Linux: the peak then covers the whole process lifetime.
        }
    }

    private static long statusField(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux.
        }
        return 0;
    }
}
