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
    private final Map<Long, Account> accounts = new HashMap<>();

    ProjectAccounts(List<Project> projects) {
        for (Project project : projects) {
            accounts.put(project.id(), new Account(project));
        }
    }

    boolean knows(long projectId) {
        return accounts.containsKey(projectId);
    }

    Project project(long projectId) {
        Account account = accounts.get(projectId);
        return account == null ? null : account.project;
    }

    /** What the project may still commit; null means unlimited (or unknown, whose jobs never get this far). */
    BigDecimal budgetLeft(long projectId) {
        Account account = accounts.get(projectId);
        return account == null ? null : account.budgetLeft;
    }

    void commit(long projectId, BigDecimal amount) {
        Account account = accounts.get(projectId);
        if (account != null && account.budgetLeft != null) {
            account.budgetLeft = account.budgetLeft.subtract(amount);
        }
    }

    /** (recent usage + GPU-hours granted this cycle) / share; unknown projects count as unused. */
    double relativeUsage(long projectId) {
        Account account = accounts.get(projectId);
        return account == null
                ? 0
                : (account.project.recentUsageGpuHours() + account.granted) / account.project.share();
    }

    void grant(long projectId, double gpuHours) {
        Account account = accounts.get(projectId);
        if (account != null) {
            account.granted += gpuHours;
        }
    }

    /** One project's mutable standing within the cycle. */
    private static final class Account {
        final Project project;
        BigDecimal budgetLeft;
        double granted;

        Account(Project project) {
            this.project = project;
            this.budgetLeft =
                    project.budgetUsd() == null ? null : project.budgetUsd().subtract(project.spentUsd());
        }
    }
}
