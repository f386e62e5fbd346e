package dev.trainyard.api.scheduling;

import static dev.trainyard.api.scheduling.Rows.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.scheduler.ClusterSnapshot;
import dev.trainyard.scheduler.PipelineStages;
import dev.trainyard.scheduler.Pool;
import dev.trainyard.scheduler.Priority;
import dev.trainyard.scheduler.Project;
import dev.trainyard.scheduler.QueuedJob;
import dev.trainyard.scheduler.RunnerMemory;
import dev.trainyard.scheduler.RunnerNode;
import dev.trainyard.scheduler.RunningAttempt;
import dev.trainyard.scheduler.Share;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.JobSpecValidator;
import dev.trainyard.spec.PipelineCut;
import dev.trainyard.spec.SpecDocument;
import java.math.BigDecimal;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The snapshot a scheduling cycle decides on is what the database says, against a real PostgreSQL. */
class SnapshotLoaderTest {
    private Connection c;
    private Rows rows;

    @BeforeEach
    void open() throws Exception {
        SchedulingDatabase.empty();
        c = SchedulingDatabase.connect();
        rows = new Rows(c);
    }

    @AfterEach
    void close() throws Exception {
        c.close();
    }

    private ClusterSnapshot load() throws Exception {
        return SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN).snapshot();
    }

    @Test
    void runnersOfferTheGpusThatLiveAttemptsLeaveFree() throws Exception {
        long pool = rows.pool("a100", "2.5");
        long project = rows.project(null);
        long busy = rows.runner(pool).gpus(8).insert();
        long partner = rows.runner(pool).gpus(8).insert();
        long draining = rows.runner(pool).gpus(4).state("DRAINING").insert();
        rows.runner(pool).state("LOST").insert();
        rows.runner(pool).state("OFFLINE").insert();
        rows.runner(pool).state("REGISTERED").insert();
        long running = rows.job(project).pool(pool).gpus(3).state("RUNNING").insert();
        rows.attempt(running).on(busy, 3).insert();
        long multi = rows.job(project)
                .pool(pool)
                .gpus(6)
                .multiNode()
                .state("RUNNING")
                .insert();
        rows.attempt(multi).on(busy, 2).on(partner, 4).insert();
        long done = rows.job(project).pool(pool).gpus(8).state("SUCCEEDED").insert();
        rows.attempt(done).on(busy, 8).ended(T0.minusSeconds(60)).insert();
        rows.attempt(done).on(draining, 4).ended(T0.minusSeconds(60)).insert();

        Map<Long, RunnerNode> runners = byId(load().runners(), RunnerNode::id);

        assertThat(runners).containsOnlyKeys(busy, partner, draining);
        assertThat(runners.get(busy)).isEqualTo(new RunnerNode(busy, pool, 8, 3, true));
        assertThat(runners.get(partner)).isEqualTo(new RunnerNode(partner, pool, 8, 4, true));
        assertThat(runners.get(draining)).isEqualTo(new RunnerNode(draining, pool, 4, 4, false));
    }

    @Test
    void aPipelineThatMayCrossRunnersCarriesEachStagesPlanAndRunnersTheirDeviceMemory() throws Exception {
        long pool = rows.pool("cpu", "1");
        long project = rows.project(null);
        long cpu = rows.runner(pool)
                .gpus(2)
                .devices("[{\"name\": \"cpu:0\", \"kind\": \"cpu\", \"memoryBytes\": 3000000},"
                        + " {\"name\": \"cpu:1\", \"kind\": \"cpu\", \"memoryBytes\": 3000000}]")
                .insert();
        long gpu = rows.runner(pool)
                .gpus(2)
                .devices("[{\"name\": \"cuda:0\", \"kind\": \"cuda\", \"memoryBytes\": 8000},"
                        + " {\"name\": \"cuda:1\", \"kind\": \"cuda\", \"memoryBytes\": 6000}]")
                .insert();
        long silent = rows.runner(pool)
                .gpus(1)
                .devices("[{\"name\": \"cuda:0\", \"kind\": \"cuda\"}]")
                .insert();
        JobSpec pipeline = JobSpecValidator.normalize(SpecDocument.parse("""
                {"name": "p", "resources": {"pool": "cpu", "gpus": 3, "multiNode": true},
                 "model": {"type": "gpt", "layers": 1, "dModel": 16, "heads": 2, "seqLen": 8},
                 "data": {"type": "arithmetic"}, "training": {"steps": 10}}"""));
        long cut = rows.job(project)
                .pool(pool)
                .gpus(3)
                .multiNode()
                .spec(SpecDocument.toJson(pipeline))
                .insert();
        long replicas =
                rows.job(project).pool(pool).gpus(4).multiNode().replicas(2).insert();
        JobSpec tensorParallel = JobSpecValidator.normalize(SpecDocument.parse("""
                {"name": "t", "resources": {"pool": "cpu", "gpus": 6, "multiNode": true},
                 "model": {"type": "gpt", "layers": 1, "dModel": 16, "heads": 2, "seqLen": 8},
                 "parallelism": {"tensorParallel": 2},
                 "data": {"type": "arithmetic"}, "training": {"steps": 10}}"""));
        long cutGroups = rows.job(project)
                .pool(pool)
                .gpus(6)
                .multiNode()
                .spec(SpecDocument.toJson(tensorParallel))
                .insert();

        ClusterSnapshot snapshot = load();
        Map<Long, RunnerNode> runners = byId(snapshot.runners(), RunnerNode::id);
        Map<Long, QueuedJob> queue = byId(snapshot.queue(), QueuedJob::id);

        assertThat(runners.get(cpu).memory()).isEqualTo(new RunnerMemory(3_000_000L, true));
        assertThat(runners.get(gpu).memory()).as("the smallest device").isEqualTo(new RunnerMemory(6000L, false));
        assertThat(runners.get(silent).memory()).isEqualTo(RunnerMemory.unknown());
        assertThat(queue.get(cut).pipeline()).isEqualTo(new PipelineStages(PipelineCut.stageBytes(pipeline)));
        assertThat(queue.get(cut).replicaGpus())
                .as("cut anywhere between stages")
                .isEqualTo(1);
        assertThat(queue.get(cutGroups).pipeline())
                .as("3 stages of 2-GPU groups, each GPU's bytes of a 2-way stage")
                .isEqualTo(new PipelineStages(PipelineCut.stageBytes(tensorParallel), 1, 2));
        assertThat(queue.get(replicas).pipeline()).isNull();
        assertThat(queue.get(replicas).replicaGpus()).isEqualTo(2);
    }

    /** A short attempt of an elastic cut job carries its pipeline, so that growth adds whole cut replicas. */
    @Test
    void aShortAttemptOfAnElasticCutJobCarriesItsPipeline() throws Exception {
        long pool = rows.pool("cpu", "1");
        long project = rows.project(null);
        long r1 = rows.runner(pool).insert();
        long r2 = rows.runner(pool).insert();
        JobSpec elastic = JobSpecValidator.normalize(SpecDocument.parse("""
                {"name": "e", "resources": {"pool": "cpu", "gpus": 6, "minGpus": 3, "multiNode": true},
                 "model": {"type": "gpt", "layers": 1, "dModel": 16, "heads": 2, "seqLen": 8},
                 "parallelism": {"dataParallel": 2},
                 "data": {"type": "arithmetic"}, "training": {"steps": 10}}"""));
        long shortJob = rows.job(project)
                .pool(pool)
                .gpus(6)
                .minGpus(3)
                .multiNode()
                .replicas(2)
                .spec(SpecDocument.toJson(elastic))
                .state("RUNNING")
                .insert();
        long shortAttempt = rows.attempt(shortJob).on(r1, 2).on(r2, 1).insert();
        long fullJob = rows.job(project)
                .pool(pool)
                .gpus(6)
                .minGpus(3)
                .multiNode()
                .replicas(2)
                .spec(SpecDocument.toJson(elastic))
                .state("RUNNING")
                .insert();
        long fullAttempt = rows.attempt(fullJob).on(r1, 3).on(r2, 3).insert();

        Map<Long, RunningAttempt> live = byId(load().running(), RunningAttempt::attemptId);

        assertThat(live.get(shortAttempt).pipeline()).isEqualTo(new PipelineStages(PipelineCut.stageBytes(elastic), 2));
        assertThat(live.get(fullAttempt).pipeline())
                .as("a full attempt has nothing to grow")
                .isNull();
    }

    @Test
    void aRunnerThatFellSilentTakesNoNewWorkButKeepsItsAttempts() throws Exception {
        long pool = rows.pool("a100", "2.5");
        long project = rows.project(null);
        long heard = rows.runner(pool).gpus(4).heartbeatAt(T0.minusSeconds(2)).insert();
        long silent = rows.runner(pool).gpus(4).heartbeatAt(T0.minusSeconds(4)).insert();
        long running = rows.job(project).pool(pool).gpus(1).state("RUNNING").insert();
        rows.attempt(running).on(silent, 1).insert();

        Map<Long, RunnerNode> runners = byId(
                SnapshotLoader.load(c, T0, Duration.ofSeconds(3)).snapshot().runners(), RunnerNode::id);

        assertThat(runners.get(heard)).isEqualTo(new RunnerNode(heard, pool, 4, 4, true));
        // still ACTIVE (the rescuer has not judged it lost yet) and still holding its attempt's GPU
        assertThat(runners.get(silent)).isEqualTo(new RunnerNode(silent, pool, 4, 3, false));
    }

    @Test
    void poolsAndProjectsCarryPricesBudgetsAndSpendFromTheLedger() throws Exception {
        long pool = rows.pool("h100", "4.125");
        long spender = rows.project("100", 2.0);
        long unlimited = rows.project(null);
        long runner = rows.runner(pool).insert();
        long job = rows.job(spender).pool(pool).state("RUNNING").insert();
        long attempt = rows.attempt(job).on(runner, 1).insert();
        rows.ledger(spender, job, attempt, T0.minusSeconds(7200), T0.minusSeconds(3600), 1800, "1.50000001");
        rows.ledger(spender, job, attempt, T0.minusSeconds(3600), T0.minusSeconds(60), 5400, "2.25");
        // Outside the 24-hour fair-share window: counts as spend, not as recent usage.
        rows.ledger(spender, job, attempt, T0.minusSeconds(30 * 3600), T0.minusSeconds(25 * 3600), 36000, "10");

        ClusterSnapshot snapshot = load();

        assertThat(snapshot.now()).isEqualTo(T0);
        assertThat(snapshot.pools()).containsExactly(new Pool(pool, "pool-1", "h100", new BigDecimal("4.125000")));
        Map<Long, Project> projects = byId(snapshot.projects(), Project::id);
        Project s = projects.get(spender);
        assertThat(s.budgetUsd()).isEqualByComparingTo("100");
        assertThat(s.spentUsd()).isEqualByComparingTo("13.75000001");
        assertThat(s.share()).isEqualTo(2.0);
        assertThat(s.recentUsageGpuHours()).isEqualTo(2.0);
        Project u = projects.get(unlimited);
        assertThat(u.budgetUsd()).isNull();
        assertThat(u.spentUsd()).isEqualByComparingTo("0");
        assertThat(u.recentUsageGpuHours()).isZero();
    }

    @Test
    void theQueueHoldsOnlyQueuedJobsWithTheirVersionAndStoredPendingInfo() throws Exception {
        long pool = rows.pool("a100", "1");
        long project = rows.project(null);
        long waiting = rows.job(project)
                .pool(pool)
                .gpuType("a100")
                .priority("HIGH")
                .gpus(4)
                .minGpus(2)
                .maxCost("12.5")
                .maxRuntimeSeconds(7200)
                .submittedAt(T0.minusSeconds(100))
                .insert();
        long byType = rows.job(project).gpuType("a100").multiNode().gpus(16).insert();
        Jdbc.update(c, """
                update jobs set version = 7, accrued_cost_usd = 0.75, pending_reason = 'WAITING_FOR_GPUS',
                       pending_message = 'needs 4', queue_position = 2, estimated_start_at = ? where id = ?""", T0.plusSeconds(900), waiting);
        for (String state :
                List.of("SCHEDULED", "RUNNING", "PREEMPTED", "SUCCEEDED", "FAILED", "CANCELLED", "BUDGET_EXHAUSTED")) {
            rows.job(project).pool(pool).state(state).insert();
        }

        SnapshotLoader.Loaded loaded = SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN);

        Map<Long, QueuedJob> queue = byId(loaded.snapshot().queue(), QueuedJob::id);
        assertThat(queue).containsOnlyKeys(waiting, byType);
        assertThat(queue.get(waiting))
                .isEqualTo(new QueuedJob(
                        waiting,
                        project,
                        pool,
                        "a100",
                        Priority.HIGH,
                        4,
                        2,
                        false,
                        7200,
                        new BigDecimal("12.500000"),
                        new BigDecimal("0.75000000"),
                        T0.minusSeconds(100),
                        7));
        QueuedJob typed = queue.get(byType);
        assertThat(typed.poolId()).isNull();
        assertThat(typed.multiNode()).isTrue();
        assertThat(typed.replicaGpus()).isEqualTo(1);
        assertThat(typed.maxCostUsd()).isNull();
        assertThat(typed.version()).isZero();
        assertThat(loaded.storedPending()).containsOnlyKeys(waiting, byType);
        assertThat(loaded.storedPending().get(waiting))
                .isEqualTo(new SnapshotLoader.StoredPending("WAITING_FOR_GPUS", "needs 4", 2, T0.plusSeconds(900)));
        assertThat(loaded.storedPending().get(byType))
                .isEqualTo(new SnapshotLoader.StoredPending(null, null, null, null));
    }

    @Test
    void liveAttemptsCarryTheirSharesAndWhetherTheyWereAskedToStop() throws Exception {
        long cheap = rows.pool("a100", "1");
        long dear = rows.pool("h100", "3");
        long project = rows.project(null);
        long r1 = rows.runner(dear).insert();
        long r2 = rows.runner(dear).insert();
        long r3 = rows.runner(cheap).insert();
        long gang = rows.job(project)
                .pool(dear)
                .priority("LOW")
                .gpus(10)
                .multiNode()
                .maxCost("50")
                .maxRuntimeSeconds(900)
                .state("RUNNING")
                .insert();
        Jdbc.update(c, "update jobs set accrued_cost_usd = 1.25 where id = ?", gang);
        long running = rows.attempt(gang)
                .on(r2, 6)
                .on(r1, 4)
                .startedAt(T0.minusSeconds(500))
                .lastCheckpointAt(T0.minusSeconds(100))
                .insert();
        long preempted = rows.job(project).pool(cheap).state("RUNNING").insert();
        long preempting = rows.attempt(preempted)
                .on(r3, 1)
                .stopping("PREEMPTING", "PREEMPTED", T0)
                .insert();
        long budget = rows.job(project).pool(cheap).state("RUNNING").insert();
        long stopping = rows.attempt(budget)
                .on(r3, 1)
                .stopping("STOPPING", "BUDGET_EXHAUSTED", T0)
                .insert();
        long starting = rows.job(project).pool(cheap).state("SCHEDULED").insert();
        long justPlaced = rows.attempt(starting).on(r3, 2).state("STARTING").insert();
        long requeued = rows.job(project).pool(cheap).insert();
        rows.attempt(requeued).on(r3, 4).ended(T0.minusSeconds(10)).insert();

        Map<Long, RunningAttempt> live = byId(load().running(), RunningAttempt::attemptId);

        assertThat(live).containsOnlyKeys(running, preempting, stopping, justPlaced);
        assertThat(live.get(running))
                .isEqualTo(new RunningAttempt(
                        running,
                        gang,
                        project,
                        dear,
                        Priority.LOW,
                        List.of(new Share(r2, 6), new Share(r1, 4)),
                        10,
                        10,
                        T0.minusSeconds(500),
                        T0.minusSeconds(100),
                        900,
                        new BigDecimal("50.000000"),
                        new BigDecimal("1.25000000"),
                        false,
                        true,
                        1));
        assertThat(live.get(preempting).preempting()).isTrue();
        assertThat(live.get(stopping).preempting()).isTrue();
        assertThat(live.get(justPlaced).preempting()).isFalse();
        assertThat(live.get(justPlaced).poolId()).isEqualTo(cheap);
        assertThat(live.get(justPlaced).lastCheckpointAt()).isNull();
    }

    private static <T> Map<Long, T> byId(List<T> items, Function<T, Long> id) {
        return items.stream().collect(Collectors.toMap(id, Function.identity()));
    }
}
