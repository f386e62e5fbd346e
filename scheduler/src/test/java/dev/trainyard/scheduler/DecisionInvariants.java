package dev.trainyard.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Invariants every decision must satisfy, checked with oracles written independently of the scheduler's own
 * classes; shared by the seeded property tests and the seed sweep.
 */
final class DecisionInvariants {
    static final SchedulerPolicy POLICY = SchedulerPolicy.defaults();

    private DecisionInvariants() {}

    static void checkAll(ClusterSnapshot snapshot, Decision decision) {
        runnersNeverOverfilled(snapshot, decision);
        placementsMatchJobShapeAndPool(snapshot, decision);
        budgetsNeverExceeded(snapshot, decision);
        noJobBehindLowerPriorityItCouldDisplace(snapshot, decision);
        everyJobPlacedOrExplained(snapshot, decision);
        preemptionsOnlyOfStrictlyLowerOldEnoughWork(snapshot, decision);
        pipelinesInStageOrderWithinMemory(snapshot, decision);
        preemptionsMakeTheirJobPlaceable(snapshot, decision);
    }

    /**
     * Every job that preempts fits its pool once its victims, every other stopping attempt and every attempt due by
     * the end of the grace period have given their GPUs back (beside what this decision placed): judged by GPU
     * counts, whole replicas and, for a pipeline cut between runners, each stage within its runner's memory.
     */
    static void preemptionsMakeTheirJobPlaceable(ClusterSnapshot snapshot, Decision decision) {
        Map<Long, QueuedJob> queue = byId(snapshot.queue(), QueuedJob::id);
        Map<Long, RunningAttempt> running = byId(snapshot.running(), RunningAttempt::attemptId);
        Map<Long, Integer> free = freeAfterGrace(snapshot, decision);
        Set<Long> checked = new HashSet<>();
        for (Preemption preemption : decision.preemptions()) {
            if (!checked.add(preemption.forJobId())) {
                continue;
            }
            QueuedJob job = queue.get(preemption.forJobId());
            long poolId = running.get(preemption.attemptId()).poolId();
            List<RunnerNode> runners = snapshot.runners().stream()
                    .filter(r -> r.poolId() == poolId && r.schedulable())
                    .toList();
            int[] available = runners.stream().mapToInt(r -> free.get(r.id())).toArray();
            assertThat(placeable(job, runners, available))
                    .as("job %d preempted %s in pool %d but does not fit %s", job.id(), preemption, poolId, free)
                    .isTrue();
        }
    }

    /**
     * A pipeline's ranks are distinct runners; each replica's ranks hold all its stages in order, each within its
     * devices' memory, every cut replica cut the same way; or a rank holds whole replicas within its memory.
     */
    static void pipelinesInStageOrderWithinMemory(ClusterSnapshot snapshot, Decision decision) {
        Map<Long, QueuedJob> jobs = byId(snapshot.queue(), QueuedJob::id);
        Map<Long, RunnerNode> runners = byId(snapshot.runners(), RunnerNode::id);
        for (Placement placement : decision.placements()) {
            PipelineStages stages = jobs.get(placement.jobId()).pipeline();
            if (stages == null) {
                continue;
            }
            assertThat(placement.nodes()).extracting(NodeAssignment::runnerId).doesNotHaveDuplicates();
            int first = 0;
            int replicas = 0;
            List<Integer> cut = new ArrayList<>();
            Set<List<Integer>> cuts = new HashSet<>();
            int t = stages.tensorParallel();
            for (NodeAssignment node : placement.nodes()) {
                RunnerMemory memory = runners.get(node.runnerId()).memory();
                assertThat(node.gpus() % t)
                        .as("runner %d holds whole %d-GPU stage groups", node.runnerId(), t)
                        .isZero();
                int held = node.gpus() / t;
                if (first == 0 && held >= stages.count()) {
                    assertThat(memory.replicasHeld(stages, node.gpus()) * stages.replicaGpus())
                            .as("whole replicas on runner %d (%s)", node.runnerId(), memory)
                            .isEqualTo(node.gpus());
                    replicas += held / stages.count();
                    continue;
                }
                assertThat(memory.stagesHeld(stages, first, held))
                        .as("stages %d to %d on runner %d (%s)", first, first + held - 1, node.runnerId(), memory)
                        .isEqualTo(held);
                first += held;
                cut.add(held);
                if (first == stages.count()) {
                    replicas++;
                    cuts.add(List.copyOf(cut));
                    cut.clear();
                    first = 0;
                }
            }
            assertThat(first).as("the last replica's stages all placed").isZero();
            assertThat(replicas).isEqualTo(stages.replicas());
            assertThat(cuts).as("every cut replica cut the same way").hasSizeLessThanOrEqualTo(1);
        }
    }

    static void runnersNeverOverfilled(ClusterSnapshot snapshot, Decision decision) {
        Map<Long, Integer> left = finalFree(snapshot, decision);
        Map<Long, RunnerNode> runners = byId(snapshot.runners(), RunnerNode::id);
        assertThat(left.values()).allSatisfy(free -> assertThat(free).isNotNegative());
        for (Placement placement : decision.placements()) {
            assertThat(placement.nodes()).allSatisfy(node -> {
                RunnerNode runner = runners.get(node.runnerId());
                assertThat(runner.schedulable()).isTrue();
                assertThat(runner.poolId()).isEqualTo(placement.poolId());
                assertThat(node.gpus()).isPositive();
            });
        }
    }

    static void placementsMatchJobShapeAndPool(ClusterSnapshot snapshot, Decision decision) {
        Map<Long, QueuedJob> jobs = byId(snapshot.queue(), QueuedJob::id);
        Map<Long, Pool> pools = byId(snapshot.pools(), Pool::id);
        for (Placement placement : decision.placements()) {
            QueuedJob job = jobs.get(placement.jobId());
            assertThat(placement.gpus())
                    .isBetween(job.minGpus(), job.gpus())
                    .isEqualTo(placement.nodes().stream()
                            .mapToInt(NodeAssignment::gpus)
                            .sum());
            assertThat(job.multiNode() || placement.nodes().size() == 1).isTrue();
            // a replica's pipeline runs within one runner
            assertThat(placement.nodes())
                    .allSatisfy(n -> assertThat(n.gpus() % job.replicaGpus()).isZero());
            assertThat(matches(job, pools.get(placement.poolId()))).isTrue();
            assertThat(placement.jobVersion()).isEqualTo(job.version());
        }
    }

    static void budgetsNeverExceeded(ClusterSnapshot snapshot, Decision decision) {
        Map<Long, QueuedJob> queue = byId(snapshot.queue(), QueuedJob::id);
        Map<Long, Pool> pools = byId(snapshot.pools(), Pool::id);
        Map<Long, BigDecimal> placed = new HashMap<>();
        for (Placement placement : decision.placements()) {
            QueuedJob job = queue.get(placement.jobId());
            BigDecimal exact = exactWorstCase(job, placement.gpus(), pools.get(placement.poolId()));
            assertThat(placement.worstCaseCostUsd()).isGreaterThanOrEqualTo(exact);
            placed.merge(job.projectId(), exact, BigDecimal::add);
        }
        Map<Long, BigDecimal> left = exactBudgetLeft(snapshot, decision);
        placed.forEach((project, amount) -> {
            if (left.containsKey(project)) {
                assertThat(amount).as("project %d", project).isLessThanOrEqualTo(left.get(project));
            }
        });
    }

    /**
     * No placed job has lower priority than a job left waiting for GPUs of the same pool that would have fit in the
     * placed job's GPUs; a job held behind a reservation is held by one of at least its own priority.
     */
    static void noJobBehindLowerPriorityItCouldDisplace(ClusterSnapshot snapshot, Decision decision) {
        Map<Long, QueuedJob> queue = byId(snapshot.queue(), QueuedJob::id);
        Map<Long, Integer> left = finalFree(snapshot, decision);
        for (WaitingJob waiting : decision.waiting()) {
            QueuedJob high = queue.get(waiting.jobId());
            if (waiting.reason() == PendingReason.BEHIND_HIGHER_PRIORITY
                    || waiting.reason() == PendingReason.BEHIND_EARLIER_JOB) {
                QueuedJob ahead = queue.get(waiting.aheadJobId());
                assertThat(ahead.priority().outranks(high.priority()))
                        .isEqualTo(waiting.reason() == PendingReason.BEHIND_HIGHER_PRIORITY);
                assertThat(high.priority().outranks(ahead.priority())).isFalse();
            } else if (waitsForGpusInOnePool(snapshot, high, waiting)) {
                long pool = matchingPools(snapshot, high).get(0).id();
                for (Placement placement : decision.placements()) {
                    QueuedJob low = queue.get(placement.jobId());
                    if (placement.poolId() == pool && high.priority().outranks(low.priority())) {
                        assertThat(wouldFit(snapshot, high, placement, left))
                                .as(
                                        "job %d (%s) waits although low job %d holds room",
                                        high.id(), waiting.message(), low.id())
                                .isFalse();
                    }
                }
            }
        }
    }

    static void everyJobPlacedOrExplained(ClusterSnapshot snapshot, Decision decision) {
        List<Long> accounted = new ArrayList<>();
        decision.placements().forEach(p -> accounted.add(p.jobId()));
        decision.waiting().forEach(w -> accounted.add(w.jobId()));
        assertThat(accounted)
                .containsExactlyInAnyOrderElementsOf(
                        snapshot.queue().stream().map(QueuedJob::id).toList());
        assertThat(decision.waiting()).allSatisfy(w -> {
            assertThat(w.reason()).isNotNull();
            assertThat(w.message()).isNotBlank();
            assertThat(w.queuePosition()).isPositive();
        });
    }

    static void preemptionsOnlyOfStrictlyLowerOldEnoughWork(ClusterSnapshot snapshot, Decision decision) {
        Map<Long, QueuedJob> queue = byId(snapshot.queue(), QueuedJob::id);
        Map<Long, RunningAttempt> running = byId(snapshot.running(), RunningAttempt::attemptId);
        Set<Long> placed = decision.placements().stream().map(Placement::jobId).collect(Collectors.toSet());
        for (Preemption preemption : decision.preemptions()) {
            RunningAttempt victim = running.get(preemption.attemptId());
            QueuedJob beneficiary = queue.get(preemption.forJobId());
            assertThat(beneficiary.priority().outranks(victim.priority())).isTrue();
            assertThat(victim.preempting()).isFalse();
            assertThat(victim.startedAt()).isBeforeOrEqualTo(snapshot.now().minus(POLICY.minRuntimeBeforePreemption()));
            assertThat(matchingPools(snapshot, beneficiary))
                    .extracting(Pool::id)
                    .contains(victim.poolId());
            assertThat(placed).doesNotContain(beneficiary.id());
        }
    }

    // --- oracles, written independently of the scheduler's own classes ---

    private static Map<Long, Integer> finalFree(ClusterSnapshot snapshot, Decision decision) {
        Map<Long, Integer> free = new HashMap<>();
        snapshot.runners().forEach(r -> free.put(r.id(), Math.max(0, Math.min(r.freeGpus(), r.totalGpus()))));
        decision.placements().forEach(p -> p.nodes().forEach(n -> free.merge(n.runnerId(), -n.gpus(), Integer::sum)));
        Map<Long, RunningAttempt> running = byId(snapshot.running(), RunningAttempt::attemptId);
        for (Resize resize : decision.resizes()) {
            Map<Long, Integer> before = running.get(resize.attemptId()).runners().stream()
                    .collect(Collectors.toMap(Share::runnerId, Share::gpus, Integer::sum));
            resize.runners()
                    .forEach(s ->
                            free.merge(s.runnerId(), before.getOrDefault(s.runnerId(), 0) - s.gpus(), Integer::sum));
        }
        return free;
    }

    /** Free GPUs per runner once stopping attempts (this decision's victims too) and those due by grace end are back. */
    private static Map<Long, Integer> freeAfterGrace(ClusterSnapshot snapshot, Decision decision) {
        Map<Long, Integer> free = finalFree(snapshot, decision);
        Set<Long> stopping = new HashSet<>();
        decision.preemptions().forEach(p -> stopping.add(p.attemptId()));
        decision.budgetStops().forEach(s -> stopping.add(s.attemptId()));
        var graceEnd = snapshot.now().plus(POLICY.preemptionGrace());
        for (RunningAttempt attempt : snapshot.running()) {
            if (attempt.preempting()
                    || stopping.contains(attempt.attemptId())
                    || !attempt.deadline().isAfter(graceEnd)) {
                attempt.runners().forEach(s -> free.merge(s.runnerId(), s.gpus(), Integer::sum));
            }
        }
        Map<Long, RunnerNode> runners = byId(snapshot.runners(), RunnerNode::id);
        free.replaceAll((id, gpus) -> Math.min(gpus, runners.get(id).totalGpus()));
        return free;
    }

    private static boolean placeable(QueuedJob job, List<RunnerNode> runners, int[] available) {
        if (job.pipeline() != null && job.pipeline().replicas() > 1) {
            // an exhaustive search over every replica's cut is too slow for a sweep; the GPU count still must hold
            return Arrays.stream(available).sum() >= job.pipeline().gpus();
        }
        if (job.pipeline() != null) {
            return stagesFit(job.pipeline().stageBytes(), 0, runners, available, new boolean[runners.size()]);
        }
        if (!job.multiNode()) {
            return Arrays.stream(available).anyMatch(gpus -> gpus >= job.minGpus());
        }
        int whole = Arrays.stream(available)
                .map(gpus -> gpus - gpus % job.replicaGpus())
                .sum();
        return whole >= job.minGpus();
    }

    /** Exhaustive: stages from {@code first} on go, in order, to unused runners, each within its free GPUs and memory. */
    private static boolean stagesFit(
            List<Long> stages, int first, List<RunnerNode> runners, int[] available, boolean[] used) {
        if (first == stages.size()) {
            return true;
        }
        for (int r = 0; r < runners.size(); r++) {
            if (used[r]) {
                continue;
            }
            used[r] = true;
            for (int k = 1; k <= Math.min(available[r], stages.size() - first); k++) {
                if (holds(runners.get(r).memory(), stages.subList(first, first + k))
                        && stagesFit(stages, first + k, runners, available, used)) {
                    return true;
                }
            }
            used[r] = false;
        }
        return false;
    }

    private static boolean holds(RunnerMemory memory, List<Long> stages) {
        if (memory.deviceBytes() == null) {
            return true;
        }
        long limit = memory.deviceBytes();
        return memory.shared()
                ? stages.stream().mapToLong(Long::longValue).sum() <= limit
                : stages.stream().allMatch(bytes -> bytes <= limit);
    }

    private static boolean waitsForGpusInOnePool(ClusterSnapshot snapshot, QueuedJob job, WaitingJob waiting) {
        boolean waitsForGpus = waiting.reason() == PendingReason.WAITING_FOR_GPUS
                || waiting.reason() == PendingReason.WAITING_FOR_PREEMPTION;
        Project project = snapshot.projects().stream()
                .filter(p -> p.id() == job.projectId())
                .findFirst()
                .orElseThrow();
        // Budgets can rule a pool out for one job and not another, so only unlimited projects are compared.
        return waitsForGpus
                && project.budgetUsd() == null
                && matchingPools(snapshot, job).size() == 1;
    }

    private static boolean wouldFit(ClusterSnapshot snapshot, QueuedJob job, Placement low, Map<Long, Integer> left) {
        if (!job.multiNode()) {
            return low.nodes().stream().anyMatch(n -> n.gpus() + left.get(n.runnerId()) >= job.minGpus());
        }
        int poolFree = snapshot.runners().stream()
                .filter(r -> r.poolId() == low.poolId() && r.schedulable())
                .mapToInt(r -> left.get(r.id()))
                .sum();
        return low.gpus() + poolFree >= job.minGpus();
    }

    private static List<Pool> matchingPools(ClusterSnapshot snapshot, QueuedJob job) {
        return snapshot.pools().stream()
                .filter(p -> matches(job, p))
                .sorted((a, b) -> a.pricePerGpuHour().compareTo(b.pricePerGpuHour()) != 0
                        ? a.pricePerGpuHour().compareTo(b.pricePerGpuHour())
                        : Long.compare(a.id(), b.id()))
                .toList();
    }

    private static boolean matches(QueuedJob job, Pool pool) {
        boolean byId = job.poolId() == null || job.poolId() == pool.id();
        boolean byType = job.gpuType() == null || job.gpuType().equalsIgnoreCase(pool.gpuType());
        return byId && byType;
    }

    private static BigDecimal exactWorstCase(QueuedJob job, int gpus, Pool pool) {
        BigDecimal full = exactCost(gpus, pool, job.maxRuntimeSeconds());
        return job.maxCostUsd() == null ? full : full.min(job.maxCostUsd().subtract(job.accruedCostUsd()));
    }

    private static BigDecimal exactCost(int gpus, Pool pool, long seconds) {
        return pool.pricePerGpuHour()
                .multiply(BigDecimal.valueOf((long) gpus * seconds))
                .divide(BigDecimal.valueOf(3600), MathContext.DECIMAL128);
    }

    /** budget - spent - what running attempts may still cost (stopping ones: only the grace period). */
    private static Map<Long, BigDecimal> exactBudgetLeft(ClusterSnapshot snapshot, Decision decision) {
        Set<Long> stopping = new HashSet<>();
        decision.budgetStops().forEach(s -> stopping.add(s.attemptId()));
        Map<Long, Pool> pools = byId(snapshot.pools(), Pool::id);
        Map<Long, BigDecimal> left = new HashMap<>();
        snapshot.projects().stream()
                .filter(p -> p.budgetUsd() != null)
                .forEach(p -> left.put(p.id(), p.budgetUsd().subtract(p.spentUsd())));
        for (RunningAttempt attempt : snapshot.running()) {
            long seconds = Math.max(
                    0, Duration.between(snapshot.now(), attempt.deadline()).getSeconds());
            if (attempt.preempting() || stopping.contains(attempt.attemptId())) {
                seconds = Math.min(seconds, POLICY.preemptionGrace().getSeconds());
            }
            BigDecimal future = exactCost(attempt.gpus(), pools.get(attempt.poolId()), seconds);
            if (attempt.maxCostUsd() != null) {
                future = future.min(
                        attempt.maxCostUsd().subtract(attempt.accruedCostUsd()).max(BigDecimal.ZERO));
            }
            BigDecimal commitment = future;
            left.computeIfPresent(attempt.projectId(), (id, amount) -> amount.subtract(commitment));
        }
        return left;
    }

    static <T> Map<Long, T> byId(List<T> items, Function<T, Long> id) {
        return items.stream().collect(Collectors.toMap(id, Function.identity()));
    }
}
