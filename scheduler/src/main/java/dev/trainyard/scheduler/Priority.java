package dev.trainyard.scheduler;

import java.util.Locale;

/** A job's priority class, where a higher rank always wins. */
public enum Priority {
    LOW(0),
    NORMAL(1),
    HIGH(2),
    URGENT(3);

    private final int rank;

    Priority(int rank) {
        this.rank = rank;
    }

    /** The explicit rank: larger means more important; never rely on declaration order. */
    public int rank() {
        return rank;
    }

    /** True when this priority is strictly more important than {@code other}. */
    public boolean outranks(Priority other) {
        return rank > other.rank;
    }

    /** Parses the job spec's spelling: {@code low}, {@code normal}, {@code high} or {@code urgent}. */
    public static Priority parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("priority is missing");
        }
        switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "low":
                return LOW;
            case "normal":
                return NORMAL;
            case "high":
                return HIGH;
            case "urgent":
                return URGENT;
            default:
                throw new IllegalArgumentException("unknown priority '" + text + "' (low|normal|high|urgent)");
        }
    }

    /** The job spec's spelling of this priority. */
    public String spelling() {
        return name().toLowerCase(Locale.ROOT);
    }
}
