package dev.trainyard.scheduler.bench;

import dev.trainyard.scheduler.ClusterGenerator;
import dev.trainyard.scheduler.ClusterSnapshot;
import dev.trainyard.scheduler.Decision;
import dev.trainyard.scheduler.Scheduler;
import dev.trainyard.scheduler.SchedulerPolicy;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * Prints how long decide takes on 1,000 runners of 8 GPUs in 4 pools for 1,000, 10,000 and 100,000 queued jobs
 * (median of several runs after warm-up). Not a test: run it through exec:java, as the module README shows.
 */
public final class DecideBenchmark {
    private static final int[] QUEUE_SIZES = {1_000, 10_000, 100_000};
    private static final int WARMUP_RUNS = 10;
    private static final int MEASURED_RUNS = 15;

    private DecideBenchmark() {}

    public static void main(String[] args) {
        // No placement cap, so one decision does all the work the queue allows.
        SchedulerPolicy policy = SchedulerPolicy.defaults().withMaxPlacementsPerCycle(Integer.MAX_VALUE);
        Scheduler scheduler = new Scheduler();
        System.out.printf(
                Locale.ROOT,
                "%-8s %-8s %-10s %-8s %-8s %-12s %-11s %-11s %-12s%n",
                "jobs",
                "runners",
                "median ms",
                "min ms",
                "max ms",
                "median cpu ms",
                "placements",
                "preemptions",
                "placements/s");
        for (int jobs : QUEUE_SIZES) {
            ClusterSnapshot snapshot = new ClusterGenerator(42, ClusterGenerator.Shape.benchmark(jobs)).generate();
            measure(scheduler, snapshot, policy, jobs);
        }
    }

    private static void measure(Scheduler scheduler, ClusterSnapshot snapshot, SchedulerPolicy policy, int jobs) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Decision decision = null;
        for (int i = 0; i < WARMUP_RUNS; i++) {
            decision = scheduler.decide(snapshot, policy);
        }
        long[] nanos = new long[MEASURED_RUNS];
        long[] cpuNanos = new long[MEASURED_RUNS];
        for (int i = 0; i < MEASURED_RUNS; i++) {
            long cpuStart = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            decision = scheduler.decide(snapshot, policy);
            nanos[i] = System.nanoTime() - start;
            cpuNanos[i] = threads.getCurrentThreadCpuTime() - cpuStart;
        }
        Arrays.sort(nanos);
        Arrays.sort(cpuNanos);
        double medianMs = nanos[MEASURED_RUNS / 2] / 1e6;
        int placements = decision.placements().size();
        // Wall time suffers when other builds share the cores; CPU time of this thread shows the work itself.
        System.out.printf(
                Locale.ROOT,
                "%-8d %-8d %-10.1f %-8.1f %-8.1f %-12.1f %-11d %-11d %-12.0f%n",
                jobs,
                snapshot.runners().size(),
                medianMs,
                nanos[0] / 1e6,
                nanos[MEASURED_RUNS - 1] / 1e6,
                cpuNanos[MEASURED_RUNS / 2] / 1e6,
                placements,
                decision.preemptions().size(),
                placements / (medianMs / 1000));
    }
}
