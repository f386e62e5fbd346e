package dev.trainyard.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Chooses which strictly lower-priority attempts to preempt so that a blocked job fits: the ones that lose the
 * least work since their last checkpoint, only as many as needed, and none younger than the policy's minimum.
 */
final class VictimPlanner {
    private final Instant now;
    private final SchedulerPolicy policy;

    VictimPlanner(Instant now, SchedulerPolicy policy) {
        this.now = now;
        this.policy = policy;
    }

    /**
     * Victims that, with the GPUs expected back by the end of the grace period ({@code baseline}), let the job fit
     * as {@link GangFit} judges it (for a cut pipeline: within its runners' memory); empty when no such set exists.
     */
    List<RunningAttempt> choose(PoolState pool, QueuedJob job, int[] baseline, Set<Long> stopping) {
        List<RunningAttempt> eligible = eligible(pool, job, stopping);
        int[] available = baseline.clone();
        List<RunningAttempt> chosen = new ArrayList<>();
        for (RunningAttempt victim : eligible) {
            if (fits(pool, job, available)) {
                break;
            }
            apply(pool, available, victim, +1);
            chosen.add(victim);
        }
        if (!fits(pool, job, available)) {
            return List.of();
        }
        pruneUnneeded(pool, job, available, chosen);
        return chosen;
    }

    private List<RunningAttempt> eligible(PoolState pool, QueuedJob job, Set<Long> stopping) {
        Instant graceEnd = now.plus(policy.preemptionGrace());
        Instant oldEnough = now.minus(policy.minRuntimeBeforePreemption());
        List<RunningAttempt> eligible = new ArrayList<>();
        for (RunningAttempt attempt : pool.attempts) {
            boolean endsAnyway = !attempt.deadline().isAfter(graceEnd);
            if (job.priority().outranks(attempt.priority())
                    && !stopping.contains(attempt.attemptId())
                    && !endsAnyway
                    && !attempt.startedAt().isAfter(oldEnough)) {
                eligible.add(attempt);
            }
        }
        eligible.sort(Comparator.comparing(this::workAtRisk)
                .thenComparingInt((RunningAttempt a) -> a.priority().rank())
                .thenComparingLong(RunningAttempt::attemptId));
        return eligible;
    }

    /** Work lost by stopping now: time since the last checkpoint, or since the start when there is none. */
    private Duration workAtRisk(RunningAttempt attempt) {
        Instant since = attempt.lastCheckpointAt() != null ? attempt.lastCheckpointAt() : attempt.startedAt();
        return Duration.between(since, now);
    }

    /** Drops victims, the costliest first, whose GPUs turn out not to be needed for the fit. */
    private static void pruneUnneeded(PoolState pool, QueuedJob job, int[] available, List<RunningAttempt> chosen) {
        for (int i = chosen.size() - 1; i >= 0; i--) {
            RunningAttempt victim = chosen.get(i);
            apply(pool, available, victim, -1);
            if (fits(pool, job, available)) {
                chosen.remove(i);
            } else {
                apply(pool, available, victim, +1);
            }
        }
    }

    private static void apply(PoolState pool, int[] available, RunningAttempt victim, int sign) {
        for (Share share : victim.runners()) {
            int pos = pool.positionOf(share.runnerId());
            if (pos >= 0) {
                available[pos] += sign * share.gpus();
            }
        }
    }

    private static boolean fits(PoolState pool, QueuedJob job, int[] available) {
        return GangFit.on(pool, job, available) != null;
    }
}
