package dev.trainyard.system.bench;

import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.SystemDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Metrics ingestion through the runner protocol: simulated runners, each holding a live attempt obtained through
 * register, heartbeat and :start, post metric batches concurrently for a bounded time (new steps every batch, so
 * every point is an insert). Prints sustained points/s into the API and PostgreSQL and request latency.
 *
 * <p>Settings: bench.posters (comma list of concurrent posters, "4,8"), bench.batch (comma list of points per
 * batch, "1000,5000"), bench.seconds (15, measured time per configuration, after 3 s of warm-up).
 */
public final class MetricsIngestionBenchmark {
    private static final List<Integer> POSTERS = ints(System.getProperty("bench.posters", "4,8"));
    private static final List<Integer> BATCHES = ints(System.getProperty("bench.batch", "1000,5000"));
    private static final long SECONDS = Long.getLong("bench.seconds", 15);
    private static final long WARM_SECONDS = 3;
    private static final String[] NAMES = {"train/loss", "train/lr", "train/grad_norm", "eval/loss"};

    public static void main(String[] args) throws Exception {
        BenchPlatform.measure("Metrics ingestion", "bench_metrics", MetricsIngestionBenchmark::run);
    }

    private static void run(Platform platform) throws Exception {
        int maxPosters = Collections.max(POSTERS);
        ProtocolClient api = new ProtocolClient(platform);
        LiveAttempts live = LiveAttempts.obtain(api, "metrics", maxPosters);
        List<ProtocolClient.Assignment> attempts = live.attempts();
        AtomicBoolean stop = new AtomicBoolean();
        Thread beats = live.keepAlive(stop, (SECONDS + WARM_SECONDS + 10) * POSTERS.size() * BATCHES.size() + 60);
        Figures.Table table = new Figures.Table(
                "posters",
                "points/batch",
                "batches",
                "points",
                "points/s",
                "batches/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "errors");
        long[] nextStep = new long[maxPosters];
        try {
            for (int batch : BATCHES) {
                for (int posters : POSTERS) {
                    measure(api, attempts.subList(0, posters), batch, WARM_SECONDS, nextStep, null);
                    long rowsBefore = rows(platform);
                    Result r;
                    try (PgActivity pg = PgActivity.maybeStart(platform.dbUrl(), SECONDS + 5)) {
                        r = measure(api, attempts.subList(0, posters), batch, SECONDS, nextStep, table);
                    }
                    long stored = rows(platform) - rowsBefore;
                    System.out.printf(
                            Locale.ROOT,
                            "%d posters x %d points: %s points/s, %d new rows in"
                                    + " metric_points (%d points accepted)%n",
                            posters,
                            batch,
                            Figures.num(r.pointsPerSecond),
                            stored,
                            r.points);
                }
            }
        } finally {
            stop.set(true);
            beats.join(5000);
            live.end();
        }
        System.out.println();
        table.print();
    }

    record Result(long points, double pointsPerSecond) {}

    private static Result measure(
            ProtocolClient api,
            List<ProtocolClient.Assignment> attempts,
            int batch,
            long seconds,
            long[] nextStep,
            Figures.Table table)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(attempts.size(), DispatchBenchmark.daemon("poster"));
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        AtomicLong points = new AtomicLong();
        AtomicLong batches = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        long maxBatches = seconds * 1000;
        List<Future<?>> posters = new ArrayList<>();
        for (int i = 0; i < attempts.size(); i++) {
            ProtocolClient.Assignment a = attempts.get(i);
            int slot = i;
            posters.add(pool.submit(() -> {
                for (int n = 0; n < maxBatches && System.nanoTime() < end; n++) {
                    String body = points(nextStep[slot], batch);
                    nextStep[slot] += batch / NAMES.length;
                    long t0 = System.nanoTime();
                    int status = api.metrics(a, body);
                    latencies.add(System.nanoTime() - t0);
                    if (status == 200) {
                        points.addAndGet(batch);
                        batches.incrementAndGet();
                    } else {
                        errors.incrementAndGet();
                    }
                }
            }));
        }
        for (Future<?> f : posters) {
            f.get();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        long[] sorted = Figures.sorted(latencies);
        if (table != null) {
            table.row(
                    attempts.size(),
                    batch,
                    batches.get(),
                    points.get(),
                    Figures.num(points.get() / elapsed),
                    Figures.num(batches.get() / elapsed),
                    Figures.ms(Figures.percentileMs(sorted, 50)),
                    Figures.ms(Figures.percentileMs(sorted, 99)),
                    Figures.ms(Figures.percentileMs(sorted, 100)),
                    errors.get());
        }
        return new Result(points.get(), points.get() / elapsed);
    }

    /** A JSON array of {@code count} points: NAMES.length series over consecutive steps from {@code firstStep}. */
    static String points(long firstStep, int count) {
        StringBuilder b = new StringBuilder(count * 56).append('[');
        for (int i = 0; i < count; i++) {
            long step = firstStep + i / NAMES.length;
            b.append(i == 0 ? "" : ",")
                    .append("{\"step\":")
                    .append(step)
                    .append(",\"name\":\"")
                    .append(NAMES[i % NAMES.length])
                    .append("\",\"value\":")
                    .append(1.0 / (1 + step + i % 7))
                    .append('}');
        }
        return b.append(']').toString();
    }

    private static long rows(Platform platform) throws Exception {
        try (Connection c = SystemDatabase.connect(platform.dbUrl());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select count(*) from metric_points")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<Integer> ints(String csv) {
        List<Integer> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            out.add(Integer.parseInt(s.trim()));
        }
        return out;
    }
}
