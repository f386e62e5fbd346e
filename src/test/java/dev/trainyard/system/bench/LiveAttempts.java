package dev.trainyard.system.bench;

import dev.trainyard.system.support.Platform;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Live attempts obtained the way a runner gets them: one simulated runner of one device per attempt registers,
 * a job of one device is submitted, the runner heartbeats until assigned and calls :start.
 */
final class LiveAttempts {
    private final ProtocolClient api;
    private final List<Long> runners = new ArrayList<>();
    private final List<ProtocolClient.Assignment> attempts = new ArrayList<>();

    private LiveAttempts(ProtocolClient api) {
        this.api = api;
    }

    static LiveAttempts obtain(ProtocolClient api, String specJsonPrefix, int count) {
        LiveAttempts live = new LiveAttempts(api);
        for (int i = 0; i < count; i++) {
            live.runners.add(api.register(String.format("sim-live-%02d", i), Platform.POOL, 1));
        }
        for (int i = 0; i < count; i++) {
            api.submit(Platform.ADMIN_TOKEN, DispatchBenchmark.spec(specJsonPrefix + "-" + i));
        }
        long deadline = System.nanoTime() + 120_000_000_000L;
        for (long runner : live.runners) {
            List<ProtocolClient.Assignment> got = List.of();
            while (got.isEmpty() && System.nanoTime() < deadline) {
                got = api.heartbeat(runner, 1000);
            }
            if (got.isEmpty()) {
                throw new IllegalStateException("runner " + runner + " got no assignment in 120 s");
            }
            api.start(got.get(0));
            live.attempts.add(got.get(0));
        }
        return live;
    }

    List<ProtocolClient.Assignment> attempts() {
        return attempts;
    }

    /** Heartbeats for every runner each second until {@code stop}, at most {@code seconds}. */
    Thread keepAlive(AtomicBoolean stop, long seconds) {
        Thread t = new Thread(
                () -> {
                    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
                    while (!stop.get() && System.nanoTime() < deadline) {
                        for (long runner : runners) {
                            try {
                                api.heartbeat(runner, 0);
                            } catch (RuntimeException e) {
                                System.out.println("heartbeat of runner " + runner + " failed: " + e.getMessage());
                            }
                        }
                        SimulatedRunner.sleep(1000);
                    }
                },
                "keep-alive");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Ends every attempt as SUCCEEDED. */
    void end() {
        for (ProtocolClient.Assignment a : attempts) {
            try {
                api.end(a, "SUCCEEDED", 1);
            } catch (RuntimeException e) {
                System.out.println("could not end attempt " + a.attemptId() + ": " + e.getMessage());
            }
        }
    }
}
