package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Builds random but self-consistent snapshots from a seed (free GPUs = total minus what attempts hold), for the
 * property tests and the benchmark.
 */
public final class ClusterGenerator {
    public static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final String[] TYPES = {"h100", "a100"};
    private static final String[] PRICES = {"1.00", "2.50", "4.10"};

    private static final long MIB = 1024 * 1024;

    private final Random random;
    /** Draws runner memory and pipeline stages apart from {@code random}, so the other draws stay as they were. */
    private final Random layouts;

    private final Shape shape;
    private long nextAttemptId = 1;

    /**
     * Sizes of the generated cluster: {@code busy} is the chance of one more attempt on a runner,
     * {@code overdueAttempts} adds attempts past their deadline, {@code stoppingAttempts} adds attempts already
     * preempting or at their cost limit.
     */
    public record Shape(
            int pools,
            int runnersPerPool,
            int[] runnerSizes,
            int projects,
            int jobs,
            double busy,
            int maxBudgetUsd,
            boolean overdueAttempts,
            boolean stoppingAttempts) {
        /** Small clusters with tight budgets and overdue attempts, where every rule gets exercised often. */
        public static Shape small(int jobs) {
            return new Shape(3, 4, new int[] {1, 2, 4, 8}, 3, jobs, 0.6, 1_500, true, true);
        }

        /** The benchmark's cluster: 1,000 busy runners of 8 GPUs in 4 pools, 50 projects with ample budgets. */
        public static Shape benchmark(int jobs) {
            return new Shape(4, 250, new int[] {8}, 50, jobs, 0.7, 1_000_000, false, false);
        }
    }

    public ClusterGenerator(long seed, Shape shape) {
        this.random = new Random(seed);
        this.layouts = new Random(~seed);
        this.shape = shape;
    }

    public ClusterSnapshot generate() {
        List<Pool> pools = pools();
        List<RunnerNode> runners = new ArrayList<>();
        List<RunningAttempt> running = new ArrayList<>();
        for (Pool pool : pools) {
            for (int i = 0; i < shape.runnersPerPool(); i++) {
                long runnerId = pool.id() * 100_000 + i + 1;
                int total = shape.runnerSizes()[random.nextInt(shape.runnerSizes().length)];
                int used = fill(pool, runnerId, total, running);
                runners.add(new RunnerNode(runnerId, pool.id(), total, total - used, random.nextInt(10) > 0, memory()));
            }
        }
        List<Project> projects = projects();
        List<QueuedJob> queue = new ArrayList<>();
        for (int i = 0; i < shape.jobs(); i++) {
            queue.add(job(i + 1, pools));
        }
        return new ClusterSnapshot(NOW, pools, runners, projects, queue, running);
    }

    /** Unknown a quarter of the time, else 1 to 8 MiB per device, shared by the devices half of the time. */
    private RunnerMemory memory() {
        return layouts.nextInt(4) == 0
                ? RunnerMemory.unknown()
                : new RunnerMemory((1 + layouts.nextInt(8)) * MIB, layouts.nextBoolean());
    }

    /**
     * Half of the fixed-size multi-node jobs of 2 GPUs or more are pipelines that may be cut between stages, some in
     * two replicas.
     */
    private PipelineStages pipeline(boolean multiNode, int gpus, int minGpus, int replicaGpus) {
        if (!multiNode || gpus < 2 || minGpus != gpus || replicaGpus != 1 || layouts.nextBoolean()) {
            return null;
        }
        // a third of those of an even 4 GPUs or more are two replicas, each cut the same way
        int replicas = gpus >= 4 && gpus % 2 == 0 && layouts.nextInt(3) == 0 ? 2 : 1;
        // and a third of those whose replica has 4 GPUs or an even number above are of two-GPU tensor-parallel stages
        int perReplica = gpus / replicas;
        int t = perReplica >= 4 && perReplica % 2 == 0 && layouts.nextInt(3) == 0 ? 2 : 1;
        List<Long> stages = new ArrayList<>();
        for (int s = 0; s < perReplica / t; s++) {
            stages.add((1 + layouts.nextInt(4)) * MIB);
        }
        return new PipelineStages(stages, replicas, t);
    }

    private List<Pool> pools() {
        List<Pool> pools = new ArrayList<>();
        for (int i = 1; i <= shape.pools(); i++) {
            String type = TYPES[(i - 1) % TYPES.length];
            pools.add(new Pool(i, "pool-" + i, type, new BigDecimal(PRICES[random.nextInt(PRICES.length)])));
        }
        return pools;
    }

    /** Places random attempts on a runner until it is about as busy as the shape says; returns GPUs used. */
    private int fill(Pool pool, long runnerId, int total, List<RunningAttempt> running) {
        int used = 0;
        while (used < total && random.nextDouble() < shape.busy()) {
            int gpus = 1 + random.nextInt(total - used);
            running.add(attempt(pool, runnerId, gpus));
            used += gpus;
        }
        return used;
    }

    private RunningAttempt attempt(Pool pool, long runnerId, int gpus) {
        long id = nextAttemptId++;
        Instant started = NOW.minusSeconds(60L * random.nextInt(600));
        Instant checkpoint = random.nextBoolean()
                ? null
                : started.plusSeconds(Duration.between(started, NOW).getSeconds() / 2);
        long elapsed = Duration.between(started, NOW).getSeconds();
        // Most attempts are still within their limit; one in ten is overdue and about to be ended.
        long runtime = shape.overdueAttempts() && random.nextInt(10) == 0
                ? elapsed / 2 + 60
                : elapsed + 600L + 60L * random.nextInt(1200);
        BigDecimal maxCost = random.nextInt(3) == 0 ? money(50) : null;
        int requested = random.nextInt(4) == 0 ? gpus + 1 + random.nextInt(3) : gpus;
        return new RunningAttempt(
                id,
                1_000_000 + id,
                1 + random.nextInt(shape.projects()),
                pool.id(),
                priority(),
                List.of(new Share(runnerId, gpus)),
                gpus,
                requested,
                started,
                checkpoint,
                runtime,
                maxCost,
                shape.stoppingAttempts() ? money(40) : BigDecimal.ZERO,
                shape.stoppingAttempts() && random.nextInt(10) == 0);
    }

    private List<Project> projects() {
        List<Project> projects = new ArrayList<>();
        for (int i = 1; i <= shape.projects(); i++) {
            BigDecimal budget = random.nextInt(3) == 0 ? null : money(shape.maxBudgetUsd());
            double fraction = random.nextDouble();
            BigDecimal spent = budget == null
                    ? money(100)
                    : budget.multiply(BigDecimal.valueOf(fraction * fraction)).setScale(2, RoundingMode.HALF_UP);
            double share = 0.5 + random.nextInt(6) * 0.5;
            projects.add(new Project(i, "project-" + i, budget, spent, share, random.nextInt(100)));
        }
        return projects;
    }

    private QueuedJob job(long id, List<Pool> pools) {
        Pool pool = pools.get(random.nextInt(pools.size()));
        boolean byType = random.nextInt(3) == 0;
        int largest = shape.runnerSizes()[shape.runnerSizes().length - 1];
        boolean multiNode = random.nextInt(5) == 0;
        int gpus = 1 + random.nextInt(multiNode ? largest * 2 : largest);
        int minGpus = random.nextInt(4) == 0 ? 1 + random.nextInt(gpus) : gpus;
        BigDecimal maxCost = random.nextInt(3) == 0 ? money(60) : null;
        BigDecimal accrued = maxCost != null && random.nextInt(4) == 0 ? money(20) : BigDecimal.ZERO;
        // data-parallel multi-node jobs: fixed size, split only into whole replicas
        int replicaGpus = 1;
        if (multiNode && minGpus == gpus && random.nextBoolean()) {
            replicaGpus = 1 + random.nextInt(gpus);
            while (gpus % replicaGpus != 0) {
                replicaGpus--;
            }
        }
        return new QueuedJob(
                id,
                1 + random.nextInt(shape.projects()),
                byType ? null : pool.id(),
                byType ? pool.gpuType() : null,
                priority(),
                gpus,
                minGpus,
                multiNode,
                600L + 60L * random.nextInt(900),
                maxCost,
                accrued,
                NOW.minusSeconds(random.nextInt(86_400)),
                random.nextInt(5),
                replicaGpus,
                pipeline(multiNode, gpus, minGpus, replicaGpus));
    }

    private Priority priority() {
        return Priority.values()[random.nextInt(Priority.values().length)];
    }

    private BigDecimal money(int upTo) {
        return BigDecimal.valueOf(random.nextInt(upTo * 100 + 1), 2);
    }
}
