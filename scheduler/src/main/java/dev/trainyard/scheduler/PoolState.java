package dev.trainyard.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One pool's schedulable runners, their free GPUs during the cycle, its attempts and its reservation. */
final class PoolState {
    /** Far above any real host; a larger count is a bad row and must not size the per-count index. */
    static final int MAX_RUNNER_GPUS = 4096;

    final Pool pool;
    final long[] runnerIds;
    final int[] capacity;
    final int[] free;
    /** What each runner's devices hold, for a pipeline's stages. */
    final RunnerMemory[] memory;

    final FreeGpuIndex index;
    final int largestRunner;
    final int totalCapacity;
    /** Attempts of this pool in attempt id order. */
    final List<RunningAttempt> attempts = new ArrayList<>();
    /** Deadlines of the placements made this cycle, which hold GPUs just like running attempts. */
    final List<Release> placedReleases = new ArrayList<>();

    private final Map<Long, Integer> positionById = new HashMap<>();
    Reservation reservation;
    /** Some queued job waits for GPUs of this pool, so idle GPUs must not go to elastic growth. */
    boolean demand;
    /** Waiting jobs counted so far while the report numbers queue positions. */
    int queueLength;

    /** {@code runners} must be this pool's schedulable runners in id order. */
    PoolState(Pool pool, List<RunnerNode> runners) {
        this.pool = pool;
        int n = runners.size();
        runnerIds = new long[n];
        capacity = new int[n];
        free = new int[n];
        memory = new RunnerMemory[n];
        int largest = 0;
        int total = 0;
        for (int pos = 0; pos < n; pos++) {
            RunnerNode runner = runners.get(pos);
            runnerIds[pos] = runner.id();
            capacity[pos] = Math.max(0, Math.min(runner.totalGpus(), MAX_RUNNER_GPUS));
            // A row that claims more free GPUs than exist, or fewer than none, is clamped rather than trusted.
            free[pos] = Math.max(0, Math.min(runner.freeGpus(), capacity[pos]));
            memory[pos] = runner.memory();
            positionById.put(runner.id(), pos);
            largest = Math.max(largest, capacity[pos]);
            total += capacity[pos];
        }
        largestRunner = largest;
        totalCapacity = total;
        index = new FreeGpuIndex(free, largest);
    }

    /** The runner's position in this pool, or -1 when it is not a schedulable runner of this pool. */
    int positionOf(long runnerId) {
        Integer pos = positionById.get(runnerId);
        return pos == null ? -1 : pos;
    }

    void take(int pos, int gpus) {
        int before = free[pos];
        free[pos] = before - gpus;
        index.move(pos, before, free[pos]);
    }

    /**
     * Whether an empty pool could hold the job at all: one runner big enough, or for multi-node all runners
     * together, each counting whole replicas of {@code unit} GPUs.
     */
    boolean couldEverHold(int gpus, boolean multiNode, int unit) {
        if (!multiNode || largestRunner >= gpus) {
            return largestRunner >= gpus;
        }
        if (unit <= 1) {
            return totalCapacity >= gpus;
        }
        long whole = 0;
        for (int c : capacity) {
            whole += c - c % unit;
        }
        return whole >= gpus;
    }

    /** A future moment when some GPUs of a runner come back. */
    record Release(Instant at, int position, int gpus, boolean stopping) {}
}
