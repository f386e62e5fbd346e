package dev.trainyard.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The snapshot indexed for one cycle: pools by id and GPU type, runners per pool, and cycle-wide state. */
final class ClusterIndex {
    final Instant now;
    final SchedulerPolicy policy;
    final ProjectAccounts accounts;
    /** Attempts that are stopping: already preempting, budget-stopped or preempted by this decision. */
    final Set<Long> stopping = new HashSet<>();

    final List<PoolState> pools = new ArrayList<>();
    final List<RunningAttempt> attempts;
    private final Map<Long, PoolState> poolsById = new HashMap<>();
    private final Map<String, List<PoolState>> poolsByType = new HashMap<>();
    private final Map<Long, ReleaseTimeline> timelines = new HashMap<>();

    ClusterIndex(ClusterSnapshot snapshot, SchedulerPolicy policy) {
        this.now = snapshot.now();
        this.policy = policy;
        this.accounts = new ProjectAccounts(snapshot.projects());
        indexPools(snapshot);
        attempts = new ArrayList<>(snapshot.running());
        attempts.sort(Comparator.comparingLong(RunningAttempt::attemptId));
        for (RunningAttempt attempt : attempts) {
            PoolState pool = poolsById.get(attempt.poolId());
            if (pool != null) {
                pool.attempts.add(attempt);
            }
            if (attempt.preempting()) {
                stopping.add(attempt.attemptId());
            }
        }
    }

    private void indexPools(ClusterSnapshot snapshot) {
        Map<Long, List<RunnerNode>> runnersByPool = new HashMap<>();
        List<RunnerNode> runners = new ArrayList<>(snapshot.runners());
        runners.sort(Comparator.comparingLong(RunnerNode::id));
        for (RunnerNode runner : runners) {
            if (runner.schedulable()) {
                runnersByPool
                        .computeIfAbsent(runner.poolId(), id -> new ArrayList<>())
                        .add(runner);
            }
        }
        List<Pool> sorted = new ArrayList<>(snapshot.pools());
        sorted.sort(Comparator.comparingLong(Pool::id));
        for (Pool pool : sorted) {
            PoolState state = new PoolState(pool, runnersByPool.getOrDefault(pool.id(), List.of()));
            pools.add(state);
            poolsById.put(pool.id(), state);
            poolsByType
                    .computeIfAbsent(typeKey(pool.gpuType()), type -> new ArrayList<>())
                    .add(state);
        }
        // A job that names only a GPU type tries the cheapest pool of that type first.
        Comparator<PoolState> cheapestFirst =
                Comparator.comparing((PoolState p) -> p.pool.pricePerGpuHour()).thenComparingLong(p -> p.pool.id());
        poolsByType.values().forEach(list -> list.sort(cheapestFirst));
    }

    private static String typeKey(String gpuType) {
        return gpuType.trim().toLowerCase(Locale.ROOT);
    }

    PoolState pool(long poolId) {
        return poolsById.get(poolId);
    }

    /** Pools the job may run in, in the order they are tried; empty when none matches. */
    List<PoolState> matching(QueuedJob job) {
        if (job.poolId() == null) {
            return job.gpuType() == null ? List.of() : poolsByType.getOrDefault(typeKey(job.gpuType()), List.of());
        }
        PoolState named = poolsById.get(job.poolId());
        if (named == null || (job.gpuType() != null && !typeKey(job.gpuType()).equals(typeKey(named.pool.gpuType())))) {
            return List.of();
        }
        return List.of(named);
    }

    ReleaseTimeline timeline(PoolState pool) {
        return timelines.computeIfAbsent(
                pool.pool.id(), id -> new ReleaseTimeline(pool, now, policy.preemptionGrace(), stopping));
    }

    /** Placements and preemptions change a pool's future; its timeline is rebuilt when next asked for. */
    void invalidate(PoolState pool) {
        timelines.remove(pool.pool.id());
    }
}
