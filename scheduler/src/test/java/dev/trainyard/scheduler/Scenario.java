package dev.trainyard.scheduler;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Readable test builder for snapshots: pools and projects by name, runners and jobs by id. */
final class Scenario {
    static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    static final String DEFAULT_PROJECT = "default";

    private final Map<String, Pool> pools = new HashMap<>();
    private final Map<String, Project> projects = new HashMap<>();
    private final List<RunnerNode> runners = new ArrayList<>();
    private final List<JobBuilder> jobs = new ArrayList<>();
    private final List<AttemptBuilder> attempts = new ArrayList<>();

    static Scenario snapshot() {
        return new Scenario().project(DEFAULT_PROJECT, null);
    }

    static JobBuilder job(long id) {
        return new JobBuilder(id);
    }

    static AttemptBuilder attempt(long attemptId) {
        return new AttemptBuilder(attemptId);
    }

    Scenario pool(String name, String gpuType, double pricePerGpuHour) {
        pools.put(name, new Pool(pools.size() + 1, name, gpuType, BigDecimal.valueOf(pricePerGpuHour)));
        return this;
    }

    /** A schedulable runner with all its GPUs free. */
    Scenario runner(long id, String pool, int gpus) {
        return runner(id, pool, gpus, gpus);
    }

    Scenario runner(long id, String pool, int totalGpus, int freeGpus) {
        runners.add(new RunnerNode(id, poolId(pool), totalGpus, freeGpus, true));
        return this;
    }

    /** A schedulable runner, all its GPUs free, whose devices hold {@code deviceBytes} each (or share it). */
    Scenario runnerWithMemory(long id, String pool, int gpus, long deviceBytes, boolean shared) {
        return runnerWithMemory(id, pool, gpus, gpus, deviceBytes, shared);
    }

    /** A schedulable runner with {@code freeGpus} of its GPUs free, whose devices hold {@code deviceBytes} each. */
    Scenario runnerWithMemory(long id, String pool, int totalGpus, int freeGpus, long deviceBytes, boolean shared) {
        runners.add(new RunnerNode(id, poolId(pool), totalGpus, freeGpus, true, new RunnerMemory(deviceBytes, shared)));
        return this;
    }

    Scenario drainingRunner(long id, String pool, int gpus) {
        runners.add(new RunnerNode(id, poolId(pool), gpus, gpus, false));
        return this;
    }

    Scenario project(String name, Double budgetUsd) {
        return project(name, budgetUsd, 0, 1, 0);
    }

    Scenario project(String name, Double budgetUsd, double spentUsd, double share, double recentUsageGpuHours) {
        long id = projects.containsKey(name) ? projects.get(name).id() : projects.size() + 1;
        BigDecimal budget = budgetUsd == null ? null : BigDecimal.valueOf(budgetUsd);
        projects.put(name, new Project(id, name, budget, BigDecimal.valueOf(spentUsd), share, recentUsageGpuHours));
        return this;
    }

    Scenario job(JobBuilder job) {
        jobs.add(job);
        return this;
    }

    Scenario running(AttemptBuilder attempt) {
        attempts.add(attempt);
        return this;
    }

    ClusterSnapshot build() {
        List<QueuedJob> queue = jobs.stream().map(j -> j.build(this)).toList();
        List<RunningAttempt> running = attempts.stream().map(a -> a.build(this)).toList();
        return new ClusterSnapshot(
                NOW, List.copyOf(pools.values()), runners, List.copyOf(projects.values()), queue, running);
    }

    Decision decide() {
        return decide(SchedulerPolicy.defaults());
    }

    Decision decide(SchedulerPolicy policy) {
        return new Scheduler().decide(build(), policy);
    }

    long poolId(String name) {
        Pool pool = pools.get(name);
        if (pool == null) {
            throw new IllegalArgumentException("declare pool " + name + " first");
        }
        return pool.id();
    }

    long projectId(String name) {
        Project project = projects.get(name);
        return project == null ? 999 : project.id();
    }

    /** A queued job; defaults: default project, normal priority, 1 GPU, one hour, no cost limit. */
    static final class JobBuilder {
        private final long id;
        private String pool;
        private Long rawPoolId;
        private String gpuType;
        private String project = DEFAULT_PROJECT;
        private Priority priority = Priority.NORMAL;
        private int gpus = 1;
        private Integer minGpus;
        private boolean multiNode;
        private int replicaGpus = 1;
        private PipelineStages pipeline;
        private long maxRuntimeSeconds = 3600;
        private BigDecimal maxCostUsd;
        private BigDecimal accruedCostUsd = BigDecimal.ZERO;
        private Instant submittedAt = NOW.minusSeconds(600);

        JobBuilder(long id) {
            this.id = id;
        }

        JobBuilder pool(String name) {
            pool = name;
            return this;
        }

        JobBuilder poolId(long id) {
            rawPoolId = id;
            return this;
        }

        JobBuilder gpuType(String type) {
            gpuType = type;
            return this;
        }

        JobBuilder project(String name) {
            project = name;
            return this;
        }

        JobBuilder priority(Priority value) {
            priority = value;
            return this;
        }

        JobBuilder gpus(int value) {
            gpus = value;
            return this;
        }

        JobBuilder minGpus(int value) {
            minGpus = value;
            return this;
        }

        JobBuilder multiNode() {
            multiNode = true;
            return this;
        }

        /** {@code replicas} data-parallel replicas of a pipeline that may be cut between these stages. */
        JobBuilder replicatedPipelineOf(int replicas, Long... stageBytes) {
            multiNode = true;
            gpus = stageBytes.length * replicas;
            replicaGpus = stageBytes.length;
            pipeline = new PipelineStages(List.of(stageBytes), replicas);
            return this;
        }

        /** Multi-node in whole data-parallel replicas of {@code gpus} GPUs each. */
        JobBuilder replicasOf(int gpus) {
            multiNode = true;
            replicaGpus = gpus;
            return this;
        }

        /** One replica's pipeline that may be cut between stages, each needing the given device memory. */
        JobBuilder pipelineOf(Long... stageBytes) {
            multiNode = true;
            gpus = stageBytes.length;
            pipeline = new PipelineStages(List.of(stageBytes));
            return this;
        }

        /**
         * {@code replicas} replicas of a pipeline whose stages are tensor-parallel groups of {@code t} GPUs, each GPU
         * of stage s needing {@code stageBytes[s]}.
         */
        JobBuilder tensorParallelPipelineOf(int t, int replicas, Long... stageBytes) {
            multiNode = true;
            gpus = stageBytes.length * t * replicas;
            replicaGpus = replicas == 1 ? 1 : stageBytes.length * t;
            pipeline = new PipelineStages(List.of(stageBytes), replicas, t);
            return this;
        }

        /** On one runner, in whole data-parallel replicas of {@code gpus} GPUs each. */
        JobBuilder oneRunnerReplicasOf(int gpus) {
            replicaGpus = gpus;
            return this;
        }

        JobBuilder runtime(Duration value) {
            maxRuntimeSeconds = value.getSeconds();
            return this;
        }

        JobBuilder maxCost(double usd) {
            maxCostUsd = BigDecimal.valueOf(usd);
            return this;
        }

        JobBuilder accrued(double usd) {
            accruedCostUsd = BigDecimal.valueOf(usd);
            return this;
        }

        JobBuilder submittedAgo(Duration value) {
            submittedAt = NOW.minus(value);
            return this;
        }

        QueuedJob build(Scenario scenario) {
            Long poolId = pool != null ? Long.valueOf(scenario.poolId(pool)) : rawPoolId;
            return new QueuedJob(
                    id,
                    scenario.projectId(project),
                    poolId,
                    gpuType,
                    priority,
                    gpus,
                    minGpus == null ? gpus : minGpus,
                    multiNode,
                    maxRuntimeSeconds,
                    maxCostUsd,
                    accruedCostUsd,
                    submittedAt,
                    7,
                    replicaGpus,
                    pipeline);
        }
    }

    /** A running attempt; defaults: job id = attempt id, normal priority, started two hours ago, 24 h limit. */
    static final class AttemptBuilder {
        private final long attemptId;
        private long jobId;
        private String project = DEFAULT_PROJECT;
        private String pool;
        private Priority priority = Priority.NORMAL;
        private final List<Share> shares = new ArrayList<>();
        private Integer requestedGpus;
        private Instant startedAt = NOW.minus(Duration.ofHours(2));
        private Instant lastCheckpointAt;
        private long maxRuntimeSeconds = Duration.ofHours(24).getSeconds();
        private BigDecimal maxCostUsd;
        private BigDecimal accruedCostUsd = BigDecimal.ZERO;
        private boolean preempting;
        private boolean multiNode;
        private int replicaGpus = 1;
        private PipelineStages pipeline;

        AttemptBuilder(long attemptId) {
            this.attemptId = attemptId;
            this.jobId = attemptId;
        }

        AttemptBuilder job(long id) {
            jobId = id;
            return this;
        }

        AttemptBuilder project(String name) {
            project = name;
            return this;
        }

        AttemptBuilder pool(String name) {
            pool = name;
            return this;
        }

        AttemptBuilder on(long runnerId, int gpus) {
            shares.add(new Share(runnerId, gpus));
            return this;
        }

        AttemptBuilder priority(Priority value) {
            priority = value;
            return this;
        }

        AttemptBuilder requested(int gpus) {
            requestedGpus = gpus;
            return this;
        }

        AttemptBuilder startedAgo(Duration value) {
            startedAt = NOW.minus(value);
            return this;
        }

        AttemptBuilder checkpointedAgo(Duration value) {
            lastCheckpointAt = NOW.minus(value);
            return this;
        }

        /** Sets the runtime limit so that the attempt must end {@code value} from now. */
        AttemptBuilder endsIn(Duration value) {
            maxRuntimeSeconds = Duration.between(startedAt, NOW.plus(value)).getSeconds();
            return this;
        }

        AttemptBuilder maxCost(double usd) {
            maxCostUsd = BigDecimal.valueOf(usd);
            return this;
        }

        AttemptBuilder accrued(double usd) {
            accruedCostUsd = BigDecimal.valueOf(usd);
            return this;
        }

        AttemptBuilder preempting() {
            preempting = true;
            return this;
        }

        /** Of a multi-node job in whole data-parallel replicas of {@code gpus} GPUs each. */
        AttemptBuilder replicasOf(int gpus) {
            multiNode = true;
            replicaGpus = gpus;
            return this;
        }

        /** Of a multi-node job of {@code replicas} replicas, each a pipeline cut between these stages. */
        AttemptBuilder cutReplicasOf(int replicas, Long... stageBytes) {
            multiNode = true;
            replicaGpus = stageBytes.length;
            pipeline = new PipelineStages(List.of(stageBytes), replicas);
            return this;
        }

        RunningAttempt build(Scenario scenario) {
            int gpus = shares.stream().mapToInt(Share::gpus).sum();
            return new RunningAttempt(
                    attemptId,
                    jobId,
                    scenario.projectId(project),
                    scenario.poolId(pool),
                    priority,
                    shares,
                    gpus,
                    requestedGpus == null ? gpus : requestedGpus,
                    startedAt,
                    lastCheckpointAt,
                    maxRuntimeSeconds,
                    maxCostUsd,
                    accruedCostUsd,
                    preempting,
                    multiNode,
                    replicaGpus,
                    pipeline);
        }
    }
}
