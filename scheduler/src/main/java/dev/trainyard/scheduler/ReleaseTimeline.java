package dev.trainyard.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * When a pool's GPUs come back: every running attempt at its deadline (or after the grace period when it is
 * stopping) and every placement of this cycle at its runtime bound, in time order.
 */
final class ReleaseTimeline {
    private final PoolState pool;
    private final Instant now;
    private final List<PoolState.Release> events;
    private Instant[] singleBySize;
    private Instant[] totalBySize;

    ReleaseTimeline(PoolState pool, Instant now, Duration grace, Set<Long> stopping) {
        this.pool = pool;
        this.now = now;
        List<PoolState.Release> all = new ArrayList<>(pool.placedReleases);
        for (RunningAttempt attempt : pool.attempts) {
            boolean isStopping = stopping.contains(attempt.attemptId());
            Instant at = releaseTime(attempt, isStopping, now, grace);
            for (Share share : attempt.runners()) {
                int pos = pool.positionOf(share.runnerId());
                if (pos >= 0 && share.gpus() > 0) {
                    all.add(new PoolState.Release(at, pos, share.gpus(), isStopping));
                }
            }
        }
        all.sort(Comparator.comparing(PoolState.Release::at).thenComparingInt(PoolState.Release::position));
        events = all;
    }

    /** Stopping attempts are expected back after the grace period; overdue ones right now. */
    static Instant releaseTime(RunningAttempt attempt, boolean stopping, Instant now, Duration grace) {
        Instant deadline = attempt.deadline().isBefore(now) ? now : attempt.deadline();
        Instant graceEnd = now.plus(grace);
        return stopping && graceEnd.isBefore(deadline) ? graceEnd : deadline;
    }

    /**
     * The first moment the job fits as {@link GangFit} judges it, with the free GPUs then and its gang; null when it
     * never does. Its GPU count (on one runner unless multi-node) is checked first, as the cheap necessary part.
     */
    Projection earliestFit(QueuedJob job) {
        int need = job.minGpus();
        boolean multiNode = job.multiNode();
        int[] projected = pool.free.clone();
        boolean[] stoppingReleased = new boolean[projected.length];
        int total = pool.index.totalFree();
        for (PoolState.Release event : events) {
            int pos = event.position();
            int before = projected[pos];
            projected[pos] = Math.min(pool.capacity[pos], before + event.gpus());
            total += projected[pos] - before;
            stoppingReleased[pos] |= event.stopping();
            if (multiNode ? total >= need : projected[pos] >= need) {
                Gang gang = GangFit.on(pool, job, projected);
                if (gang != null) {
                    return new Projection(event.at(), projected, stoppingReleased, gang);
                }
            }
        }
        return null;
    }

    /** Free GPUs per runner once everything due by {@code at} has come back. */
    int[] projectedAt(Instant at) {
        int[] projected = pool.free.clone();
        for (PoolState.Release event : events) {
            if (event.at().isAfter(at)) {
                break;
            }
            int pos = event.position();
            projected[pos] = Math.min(pool.capacity[pos], projected[pos] + event.gpus());
        }
        return projected;
    }

    /** Earliest moment {@code need} GPUs are free at once, ignoring jobs queued ahead; null if never. */
    Instant earliestStart(int need, boolean multiNode) {
        if (singleBySize == null) {
            buildStartTables();
        }
        Instant[] table = multiNode ? totalBySize : singleBySize;
        return need < table.length ? table[Math.max(need, 0)] : null;
    }

    private void buildStartTables() {
        singleBySize = new Instant[pool.largestRunner + 1];
        totalBySize = new Instant[pool.totalCapacity + 1];
        int[] projected = pool.free.clone();
        int largest = 0;
        int total = 0;
        for (int pos = 0; pos < projected.length; pos++) {
            largest = Math.max(largest, projected[pos]);
            total += projected[pos];
        }
        fill(singleBySize, 0, largest, now);
        fill(totalBySize, 0, total, now);
        for (PoolState.Release event : events) {
            int pos = event.position();
            int before = projected[pos];
            projected[pos] = Math.min(pool.capacity[pos], before + event.gpus());
            fill(singleBySize, largest, projected[pos], event.at());
            largest = Math.max(largest, projected[pos]);
            fill(totalBySize, total, total + projected[pos] - before, event.at());
            total += projected[pos] - before;
        }
    }

    private static void fill(Instant[] table, int reached, int upTo, Instant at) {
        for (int size = reached + 1; size <= Math.min(upTo, table.length - 1); size++) {
            table[size] = at;
        }
        if (reached == 0 && upTo >= 0) {
            table[0] = table[0] == null ? at : table[0];
        }
    }

    /**
     * Free GPUs per runner at a future moment, which runners got GPUs back from stopping attempts, and where the job
     * fits then.
     */
    record Projection(Instant at, int[] free, boolean[] stoppingReleased, Gang gang) {}
}
