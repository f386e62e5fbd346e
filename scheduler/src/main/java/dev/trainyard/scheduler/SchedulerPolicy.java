package dev.trainyard.scheduler;

import java.time.Duration;
import java.util.Objects;

/**
 * The knobs of the scheduling policy.
 *
 * @param minRuntimeBeforePreemption an attempt younger than this is never preempted (protects fresh starts)
 * @param preemptionGrace how long a victim gets to checkpoint and stop; also when its GPUs are expected back
 * @param backfill whether smaller jobs may start ahead of a blocked job when they do not delay it
 * @param preemption whether strictly lower-priority work may be preempted at all
 * @param elasticGrowth whether short elastic attempts are grown when GPUs are idle
 * @param maxPlacementsPerCycle cap on placements per decision, so one cycle's writes stay bounded
 */
public record SchedulerPolicy(
        Duration minRuntimeBeforePreemption,
        Duration preemptionGrace,
        boolean backfill,
        boolean preemption,
        boolean elasticGrowth,
        int maxPlacementsPerCycle) {

    public SchedulerPolicy {
        Objects.requireNonNull(minRuntimeBeforePreemption, "minRuntimeBeforePreemption");
        Objects.requireNonNull(preemptionGrace, "preemptionGrace");
        if (maxPlacementsPerCycle < 0) {
            throw new IllegalArgumentException("maxPlacementsPerCycle must not be negative");
        }
    }

    /** Ten minutes minimum runtime, five minutes grace, backfill, preemption and growth on, 1,000 placements. */
    public static SchedulerPolicy defaults() {
        return new SchedulerPolicy(Duration.ofMinutes(10), Duration.ofMinutes(5), true, true, true, 1_000);
    }

    public SchedulerPolicy withMinRuntimeBeforePreemption(Duration value) {
        return new SchedulerPolicy(value, preemptionGrace, backfill, preemption, elasticGrowth, maxPlacementsPerCycle);
    }

    public SchedulerPolicy withPreemptionGrace(Duration value) {
        return new SchedulerPolicy(
                minRuntimeBeforePreemption, value, backfill, preemption, elasticGrowth, maxPlacementsPerCycle);
    }

    public SchedulerPolicy withBackfill(boolean value) {
        return new SchedulerPolicy(
                minRuntimeBeforePreemption, preemptionGrace, value, preemption, elasticGrowth, maxPlacementsPerCycle);
    }

    public SchedulerPolicy withPreemption(boolean value) {
        return new SchedulerPolicy(
                minRuntimeBeforePreemption, preemptionGrace, backfill, value, elasticGrowth, maxPlacementsPerCycle);
    }

    public SchedulerPolicy withElasticGrowth(boolean value) {
        return new SchedulerPolicy(
                minRuntimeBeforePreemption, preemptionGrace, backfill, preemption, value, maxPlacementsPerCycle);
    }

    public SchedulerPolicy withMaxPlacementsPerCycle(int value) {
        return new SchedulerPolicy(
                minRuntimeBeforePreemption, preemptionGrace, backfill, preemption, elasticGrowth, value);
    }
}
