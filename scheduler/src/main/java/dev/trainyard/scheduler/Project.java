package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * A project's money and fair-share standing: {@code budgetUsd} null means unlimited, {@code spentUsd} includes
 * what its running attempts accrued so far, {@code share} is its fair-share weight (positive, 1 by default) and
 * {@code recentUsageGpuHours} its recent consumption.
 */
public record Project(
        long id, String name, BigDecimal budgetUsd, BigDecimal spentUsd, double share, double recentUsageGpuHours) {

    public Project {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(spentUsd, "spentUsd");
        if (!(share > 0) || Double.isInfinite(share)) {
            throw new IllegalArgumentException("share must be a positive finite weight, got " + share);
        }
    }
}
