package dev.trainyard.api.concurrent;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** A background task on its own daemon thread, run with a fixed delay between runs. */
public final class Ticker {
    private Ticker() {}

    /** Runs {@code task} after {@code initialDelayMs}, then {@code periodMs} after each run ends. */
    public static ScheduledExecutorService start(String threadName, long initialDelayMs, long periodMs, Runnable task) {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(task, initialDelayMs, periodMs, TimeUnit.MILLISECONDS);
        return executor;
    }
}
