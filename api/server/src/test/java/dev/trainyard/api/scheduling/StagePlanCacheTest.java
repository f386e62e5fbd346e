package dev.trainyard.api.scheduling;

import static dev.trainyard.api.scheduling.Rows.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.scheduler.PipelineStages;
import dev.trainyard.scheduler.QueuedJob;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.JobSpecValidator;
import dev.trainyard.spec.PipelineCut;
import dev.trainyard.spec.SpecDocument;
import java.sql.Connection;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The leader keeps queued jobs' stage plans between cycles: an unchanged job's spec is parsed once, a job whose row
 * changed is parsed again, and jobs that left the queue are forgotten; against a real PostgreSQL.
 */
class StagePlanCacheTest {
    private Connection c;
    private Rows rows;
    private long pool;
    private long project;

    @BeforeEach
    void open() throws Exception {
        SchedulingDatabase.empty();
        c = SchedulingDatabase.connect();
        rows = new Rows(c);
        pool = rows.pool("cpu", "1");
        project = rows.project(null);
    }

    @AfterEach
    void close() throws Exception {
        c.close();
    }

    /** A GPT pipeline of three single-device stages that may be cut between runners. */
    private static JobSpec pipeline(int layers) {
        return JobSpecValidator.normalize(SpecDocument.parse("""
                {"name": "p", "resources": {"pool": "cpu", "gpus": 3, "multiNode": true},
                 "model": {"type": "gpt", "layers": %d, "dModel": 16, "heads": 2, "seqLen": 8},
                 "data": {"type": "arithmetic"}, "training": {"steps": 10}}""".formatted(layers)));
    }

    private Map<Long, QueuedJob> load(StagePlanCache plans) throws Exception {
        return SnapshotLoader.load(c, T0, Rows.HEARD_WITHIN, plans).snapshot().queue().stream()
                .collect(Collectors.toMap(QueuedJob::id, Function.identity()));
    }

    private long queuedPipeline(JobSpec spec) throws Exception {
        return rows.job(project)
                .pool(pool)
                .gpus(3)
                .multiNode()
                .spec(SpecDocument.toJson(spec))
                .insert();
    }

    @Test
    void anUnchangedQueuedJobIsParsedOnceAcrossCycles() throws Exception {
        JobSpec spec = pipeline(1);
        long cut = queuedPipeline(spec);
        long replicas =
                rows.job(project).pool(pool).gpus(4).multiNode().replicas(2).insert();
        rows.job(project).pool(pool).gpus(2).insert();
        StagePlanCache plans = new StagePlanCache();

        Map<Long, QueuedJob> first = load(plans);
        Map<Long, QueuedJob> second = load(plans);

        assertThat(plans.parses())
                .as("one parse per multi-node job, none for the single-runner one")
                .isEqualTo(2);
        PipelineStages expected = new PipelineStages(PipelineCut.stageBytes(spec));
        assertThat(first.get(cut).pipeline()).isEqualTo(expected);
        assertThat(second).isEqualTo(first);
        assertThat(second.get(replicas).pipeline()).isNull();
        assertThat(second.get(replicas).replicaGpus()).isEqualTo(2);
    }

    @Test
    void aJobWhoseRowChangedIsParsedAgainAndOneThatLeftTheQueueIsForgotten() throws Exception {
        long cut = queuedPipeline(pipeline(1));
        long other = queuedPipeline(pipeline(1));
        StagePlanCache plans = new StagePlanCache();
        load(plans);
        JobSpec bigger = pipeline(5);
        Jdbc.update(
                c,
                "update jobs set spec = cast(? as jsonb), version = version + 1 where id = ?",
                SpecDocument.toJson(bigger),
                cut);
        Jdbc.update(c, "update jobs set state = 'SCHEDULED', version = version + 1 where id = ?", other);

        Map<Long, QueuedJob> queue = load(plans);

        assertThat(plans.parses()).isEqualTo(3);
        assertThat(queue.get(cut).pipeline()).isEqualTo(new PipelineStages(PipelineCut.stageBytes(bigger)));
        assertThat(queue).doesNotContainKey(other);
        assertThat(plans.size()).as("only the job still queued is kept").isEqualTo(1);
    }

    /**
     * Not a check: prints the median time to load a snapshot with many queued multi-node pipelines, parsing every
     * spec each cycle (a new cache per load, as before the cache) and with the leader's cache kept between loads.
     * {@code -Dbench.snapshot.jobs=2000} runs it.
     */
    @Test
    @EnabledIfSystemProperty(named = "bench.snapshot.jobs", matches = "\\d+")
    void printsSnapshotLoadTimeWithManyQueuedPipelines() throws Exception {
        int jobs = Integer.getInteger("bench.snapshot.jobs");
        Jdbc.update(c, """
                insert into jobs (project_id, name, spec, priority, pool_id, gpu_type, gpus, min_gpus, multi_node,
                                  max_runtime_seconds, max_restarts, total_steps, state, submitted_at)
                select ?, 'bench-' || g, cast(? as jsonb), 'NORMAL', ?, 'cpu', 3, 3, true, 3600, 2, 1000, 'QUEUED', ?
                  from generate_series(1, ?) g""", project, SpecDocument.toJson(pipeline(4)), pool, T0.minusSeconds(600), jobs);
        StagePlanCache kept = new StagePlanCache();
        double parsing = medianMillis(() -> load(new StagePlanCache()));
        double cached = medianMillis(() -> load(kept));
        System.out.printf(
                Locale.ROOT,
                "snapshot load, %d queued pipelines: parsing every spec %.1f ms, cached plans %.1f ms (median of 15)%n",
                jobs,
                parsing,
                cached);
    }

    private interface Load {
        void run() throws Exception;
    }

    private static double medianMillis(Load load) throws Exception {
        for (int i = 0; i < 5; i++) {
            load.run();
        }
        double[] millis = new double[15];
        for (int i = 0; i < millis.length; i++) {
            long start = System.nanoTime();
            load.run();
            millis[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(millis);
        return millis[millis.length / 2];
    }
}
