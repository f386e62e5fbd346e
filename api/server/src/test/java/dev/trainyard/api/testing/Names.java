package dev.trainyard.api.testing;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/** Unique lower-case names, so that no test depends on another's data. */
public final class Names {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private Names() {}

    public static String unique(String prefix) {
        return prefix + "-" + COUNTER.incrementAndGet() + "-"
                + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
    }
}
