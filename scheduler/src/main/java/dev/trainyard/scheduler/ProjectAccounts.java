package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-project budget left and fair-share usage during one cycle.
 *
 * <p>Budget left = budget - spent - the commitments of its running attempts - worst cases placed this cycle.
 */
final class ProjectAccounts {
    private final Map<Long, Project> projects = new HashMap<>();
    private final Map<Long, BigDecimal> budgetLeft = new HashMap<>();
    private final Map<Long, Double> grantedGpuHours = new HashMap<>();

    ProjectAccounts(List<Project> projectList) {
        for (Project project : projectList) {
            projects.put(project.id(), project);
            if (project.budgetUsd() != null) {
                budgetLeft.put(project.id(), project.budgetUsd().subtract(project.spentUsd()));
            }
        }
    }

    boolean knows(long projectId) {
        return projects.containsKey(projectId);
    }

    Project project(long projectId) {
        return projects.get(projectId);
    }

    /** What the project may still commit; null means unlimited. */
    BigDecimal budgetLeft(long projectId) {
        return budgetLeft.get(projectId);
    }

    void commit(long projectId, BigDecimal amount) {
        budgetLeft.computeIfPresent(projectId, (id, left) -> left.subtract(amount));
    }

    /** (recent usage + GPU-hours granted this cycle) / share; unknown projects count as unused. */
    double relativeUsage(long projectId) {
        Project project = projects.get(projectId);
        double granted = grantedGpuHours.getOrDefault(projectId, 0.0);
        if (project == null) {
            return granted;
        }
        return (project.recentUsageGpuHours() + granted) / project.share();
    }

    void grant(long projectId, double gpuHours) {
        grantedGpuHours.merge(projectId, gpuHours, Double::sum);
    }
}
