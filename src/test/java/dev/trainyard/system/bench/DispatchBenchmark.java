package dev.trainyard.system.bench;

import dev.trainyard.system.support.Platform;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Dispatch end to end through the real API and PostgreSQL: simulated runners (no training) long-poll heartbeats
 * and answer every assignment with :start then :end SUCCEEDED; jobs of 1 device are submitted over HTTP.
 * Prints jobs/s from submission to claimed (:start answered) under a burst, and submit-to-claimed latency on an
 * idle cluster. Every loop is bounded in count and time.
 *
 * <p>Settings (system properties): bench.runners (50), bench.devices (8), bench.jobs (2000), bench.submitters (8),
 * bench.idleJobs (200), bench.waitMs (1000), bench.seconds (120, the budget of each phase).
 */
public final class DispatchBenchmark {
    private static final int RUNNERS = Integer.getInteger("bench.runners", 50);
    private static final int DEVICES = Integer.getInteger("bench.devices", 8);
    private static final int JOBS = Integer.getInteger("bench.jobs", 2000);
    private static final int SUBMITTERS = Integer.getInteger("bench.submitters", 8);
    private static final int IDLE_JOBS = Integer.getInteger("bench.idleJobs", 200);
    private static final long WAIT_MS = Long.getLong("bench.waitMs", 1000);
    private static final long PHASE_SECONDS = Long.getLong("bench.seconds", 120);

    private final Map<Long, CompletableFuture<Long>> claims = new ConcurrentHashMap<>();
    private final AtomicLong claimErrors = new AtomicLong();

    public static void main(String[] args) throws Exception {
        BenchPlatform.measure(
                "Dispatch through the API: " + RUNNERS + " simulated runners x " + DEVICES + " devices",
                "bench_dispatch",
                platform -> new DispatchBenchmark().run(platform));
    }

    static String spec(String name) {
        return "{\"name\":\"" + name + "\",\"project\":\"" + Platform.PROJECT + "\",\"resources\":{\"pool\":\""
                + Platform.POOL + "\",\"gpus\":1},\"limits\":{\"maxRuntimeSeconds\":3600,\"maxRestarts\":0},"
                + "\"model\":{\"type\":\"gpt\",\"layers\":1,\"dModel\":16,\"heads\":2,\"seqLen\":8,\"vocab\":32},"
                + "\"data\":{\"type\":\"arithmetic\",\"seed\":1},"
                + "\"training\":{\"steps\":1,\"batchSize\":1,\"learningRate\":0.001,\"seed\":1},"
                + "\"parallelism\":{\"stages\":1,\"microBatches\":1,\"schedule\":\"gpipe\"}}";
    }

    private void run(Platform platform) throws Exception {
        ProtocolClient api = new ProtocolClient(platform);
        AtomicBoolean stop = new AtomicBoolean();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PHASE_SECONDS * 3 + 60);
        ExecutorService work = Executors.newFixedThreadPool(64, daemon("claim"));
        ExecutorService runnerThreads = Executors.newFixedThreadPool(RUNNERS, daemon("sim-runner"));
        List<SimulatedRunner> runners = new ArrayList<>();
        for (int i = 0; i < RUNNERS; i++) {
            String name = String.format("sim-%03d", i);
            long id = api.register(name, Platform.POOL, DEVICES);
            runners.add(new SimulatedRunner(api, name, id, WAIT_MS, deadline, work, a -> claim(api, a), stop));
        }
        runners.forEach(runnerThreads::submit);
        try {
            Burst warm = burst(api, "warm", Math.min(200, JOBS), SUBMITTERS);
            System.out.println("warm-up: " + warm.claimed + " of " + warm.jobs + " claimed");
            Burst burst;
            try (PgActivity pg = PgActivity.maybeStart(platform.dbUrl(), PHASE_SECONDS)) {
                burst = burst(api, "burst", JOBS, SUBMITTERS);
            }
            long[] idle = idleLatencies(api);
            print(burst, idle, runners);
        } finally {
            stop.set(true);
            runnerThreads.shutdown();
            runnerThreads.awaitTermination(WAIT_MS + 30_000, TimeUnit.MILLISECONDS);
            work.shutdownNow();
        }
    }

    private void claim(ProtocolClient api, ProtocolClient.Assignment a) {
        try {
            api.start(a);
            long at = System.nanoTime();
            claims.computeIfAbsent(a.jobId(), k -> new CompletableFuture<>()).complete(at);
            api.end(a, "SUCCEEDED", 1);
        } catch (RuntimeException e) {
            claimErrors.incrementAndGet();
        }
    }

    private CompletableFuture<Long> claimOf(long jobId) {
        return claims.computeIfAbsent(jobId, k -> new CompletableFuture<>());
    }

    /** What one burst of submissions measured. */
    record Burst(
            int jobs,
            int claimed,
            long firstSubmit,
            long lastSubmitted,
            long lastClaim,
            long[] latencies,
            long submitErrors) {}

    private Burst burst(ProtocolClient api, String label, int jobs, int submitters) throws Exception {
        Map<Long, Long> submittedAt = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        AtomicLong errors = new AtomicLong();
        long phaseEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(PHASE_SECONDS);
        ExecutorService pool = Executors.newFixedThreadPool(submitters, daemon("submitter"));
        long first = System.nanoTime();
        for (int s = 0; s < submitters; s++) {
            pool.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < jobs && System.nanoTime() < phaseEnd; ) {
                    long t0 = System.nanoTime();
                    try {
                        submittedAt.put(api.submit(Platform.ADMIN_TOKEN, spec(label + "-" + i)), t0);
                    } catch (RuntimeException e) {
                        errors.incrementAndGet();
                    }
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(PHASE_SECONDS + 10, TimeUnit.SECONDS);
        long lastSubmitted = System.nanoTime();
        List<Long> latencies = new ArrayList<>();
        long lastClaim = first;
        for (Map.Entry<Long, Long> e : submittedAt.entrySet()) {
            long left = Math.max(1, phaseEnd + TimeUnit.SECONDS.toNanos(10) - System.nanoTime());
            try {
                long at = claimOf(e.getKey()).get(left, TimeUnit.NANOSECONDS);
                latencies.add(at - e.getValue());
                lastClaim = Math.max(lastClaim, at);
            } catch (TimeoutException timeout) {
                // counted as not claimed
            }
        }
        return new Burst(
                jobs, latencies.size(), first, lastSubmitted, lastClaim, Figures.sorted(latencies), errors.get());
    }

    /** One job at a time on free devices: submit, wait until :start is answered, pause briefly, repeat. */
    private long[] idleLatencies(ProtocolClient api) throws Exception {
        List<Long> latencies = new ArrayList<>();
        long phaseEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(PHASE_SECONDS);
        SimulatedRunner.sleep(2000);
        for (int i = 0; i < IDLE_JOBS && System.nanoTime() < phaseEnd; i++) {
            long t0 = System.nanoTime();
            long id = api.submit(Platform.ADMIN_TOKEN, spec("idle-" + i));
            try {
                latencies.add(claimOf(id).get(10, TimeUnit.SECONDS) - t0);
            } catch (TimeoutException e) {
                System.out.println("idle job " + id + " not claimed in 10 s");
            }
            SimulatedRunner.sleep(20);
        }
        return Figures.sorted(latencies);
    }

    private void print(Burst b, long[] idle, List<SimulatedRunner> runners) {
        double submitSeconds = (b.lastSubmitted - b.firstSubmit) / 1e9;
        double claimSeconds = (b.lastClaim - b.firstSubmit) / 1e9;
        long heartbeats = runners.stream().mapToLong(r -> r.heartbeats.get()).sum();
        long runnerErrors = runners.stream().mapToLong(r -> r.errors.get()).sum();
        System.out.println();
        new Figures.Table(
                        "phase",
                        "jobs",
                        "claimed",
                        "submit jobs/s",
                        "submit-to-claimed jobs/s",
                        "p50 ms",
                        "p99 ms",
                        "max ms")
                .row(
                        "burst (" + SUBMITTERS + " submitters)",
                        b.jobs,
                        b.claimed,
                        Figures.num(b.jobs / submitSeconds),
                        Figures.num(b.claimed / claimSeconds),
                        Figures.ms(Figures.percentileMs(b.latencies, 50)),
                        Figures.ms(Figures.percentileMs(b.latencies, 99)),
                        Figures.ms(Figures.percentileMs(b.latencies, 100)))
                .row(
                        "idle (one at a time)",
                        IDLE_JOBS,
                        idle.length,
                        "-",
                        "-",
                        Figures.ms(Figures.percentileMs(idle, 50)),
                        Figures.ms(Figures.percentileMs(idle, 99)),
                        Figures.ms(Figures.percentileMs(idle, 100)))
                .print();
        System.out.println("burst: submitted in " + Figures.ms(submitSeconds * 1000) + " ms, all claimed after "
                + Figures.ms(claimSeconds * 1000) + " ms; submit errors " + b.submitErrors + ", claim errors "
                + claimErrors.get() + ", heartbeats " + heartbeats + ", runner errors " + runnerErrors
                + runners.stream()
                        .filter(r -> r.lastError != null)
                        .findFirst()
                        .map(r -> " (" + r.lastError + ")")
                        .orElse(""));
    }

    static java.util.concurrent.ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
