package dev.trainyard.spec;

import dev.trainyard.scheduler.CostModel;
import java.math.BigDecimal;

/** What a submitted job may cost at most in a pool: the scheduler's own worst case, so both quote one figure. */
public final class WorstCaseCost {

    private WorstCaseCost() {}

    /** GPUs x price x max runtime, capped by the job's cost limit, of a normalized spec that has run nothing yet. */
    public static BigDecimal of(JobSpec spec, BigDecimal pricePerGpuHour) {
        return CostModel.worstCase(
                spec.resources().gpus(),
                pricePerGpuHour,
                spec.limits().maxRuntimeSeconds(),
                spec.limits().maxCostUsd(),
                BigDecimal.ZERO);
    }
}
