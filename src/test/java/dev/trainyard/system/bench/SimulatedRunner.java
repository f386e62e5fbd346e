package dev.trainyard.system.bench;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A runner that speaks the protocol but trains nothing: it long-polls heartbeats and hands every new STARTING
 * assignment to a handler (which typically calls :start and :end), all its new assignments in parallel.
 */
final class SimulatedRunner implements Runnable {
    private final ProtocolClient api;
    private final String name;
    private final long runnerId;
    private final long waitMs;
    private final long deadlineNanos;
    private final ExecutorService work;
    private final Consumer<ProtocolClient.Assignment> handler;
    private final AtomicBoolean stop;
    private final Set<Long> seen = new HashSet<>();
    final AtomicLong heartbeats = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    volatile String lastError;

    SimulatedRunner(
            ProtocolClient api,
            String name,
            long runnerId,
            long waitMs,
            long deadlineNanos,
            ExecutorService work,
            Consumer<ProtocolClient.Assignment> handler,
            AtomicBoolean stop) {
        this.api = api;
        this.name = name;
        this.runnerId = runnerId;
        this.waitMs = waitMs;
        this.deadlineNanos = deadlineNanos;
        this.work = work;
        this.handler = handler;
        this.stop = stop;
    }

    String name() {
        return name;
    }

    @Override
    public void run() {
        while (!stop.get() && System.nanoTime() < deadlineNanos) {
            try {
                List<ProtocolClient.Assignment> assignments = api.heartbeat(runnerId, waitMs);
                heartbeats.incrementAndGet();
                List<Future<?>> running = new ArrayList<>();
                for (ProtocolClient.Assignment a : assignments) {
                    if (a.state().equals("STARTING") && seen.add(a.attemptId())) {
                        running.add(work.submit(() -> handler.accept(a)));
                    }
                }
                for (Future<?> f : running) {
                    f.get();
                }
            } catch (Exception e) {
                errors.incrementAndGet();
                lastError = e.toString();
                sleep(100);
            }
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
