package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/** One run of the policy over one snapshot; used once and thrown away. */
final class SchedulingCycle {
    private final ClusterSnapshot snapshot;
    private final ClusterIndex index;

    SchedulingCycle(ClusterSnapshot snapshot, SchedulerPolicy policy) {
        this.snapshot = snapshot;
        this.index = new ClusterIndex(snapshot, policy);
    }

    Decision run() {
        // 1. Stop attempts that reached their job's or project's limit; their GPUs come back like preempted ones.
        List<BudgetStop> budgetStops = budgetStops();
        // 2. Commit what running attempts may still cost, so new work only gets the rest of each budget.
        commitRunningAttempts();
        // 3. Place the queue in order, reserving and preempting for heads of line.
        List<Preemption> preemptions = new ArrayList<>();
        QueuePass pass = new QueuePass(index, preemptions);
        pass.run(new FairShareQueue(snapshot.queue(), index.accounts));
        // 4. Give idle GPUs nobody waits for to short elastic attempts.
        List<Resize> resizes = new ElasticGrowth(index).plan();
        // 5. Explain every job left waiting.
        List<WaitingJob> waiting = new WaitingReport(index).build(pass.pending);
        return new Decision(pass.placements, preemptions, budgetStops, resizes, waiting);
    }

    private List<BudgetStop> budgetStops() {
        List<BudgetStop> stops = new ArrayList<>();
        for (RunningAttempt attempt : index.attempts) {
            BudgetStopReason reason = stopReason(attempt);
            if (reason != null) {
                stops.add(new BudgetStop(attempt.attemptId(), attempt.jobId(), reason));
                index.stopping.add(attempt.attemptId());
            }
        }
        return stops;
    }

    private BudgetStopReason stopReason(RunningAttempt attempt) {
        if (attempt.maxCostUsd() != null && attempt.accruedCostUsd().compareTo(attempt.maxCostUsd()) >= 0) {
            return BudgetStopReason.MAX_COST_REACHED;
        }
        Project project = index.accounts.project(attempt.projectId());
        if (project != null && project.budgetUsd() != null && project.spentUsd().compareTo(project.budgetUsd()) >= 0) {
            return BudgetStopReason.PROJECT_BUDGET_REACHED;
        }
        return null;
    }

    private void commitRunningAttempts() {
        for (RunningAttempt attempt : index.attempts) {
            PoolState pool = index.pool(attempt.poolId());
            if (pool != null) {
                boolean stopping = index.stopping.contains(attempt.attemptId());
                BigDecimal commitment = CostModel.commitment(
                        attempt, attempt.gpus(), pool.pool, index.now, stopping, index.policy.preemptionGrace());
                index.accounts.commit(attempt.projectId(), commitment);
            }
        }
    }
}
