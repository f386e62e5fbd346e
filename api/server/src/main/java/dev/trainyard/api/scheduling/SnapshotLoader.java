package dev.trainyard.api.scheduling;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.lifecycle.AttemptState;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.api.lifecycle.RunnerState;
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
import dev.trainyard.spec.PipelineCut;
import dev.trainyard.spec.SpecDocument;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads everything one scheduling cycle needs from PostgreSQL, in one repeatable-read transaction. */
public final class SnapshotLoader {

    private SnapshotLoader() {}

    /** The snapshot, and the pending info currently stored per queued job (so unchanged rows are not rewritten). */
    public record Loaded(ClusterSnapshot snapshot, Map<Long, StoredPending> storedPending) {}

    /** What a queued job's row says about why it waits. */
    public record StoredPending(String reason, String message, Integer position, Instant estimate) {}

    /**
     * @param heardWithin a runner takes new work only if its last heartbeat is this recent: one that fell silent
     *     (its machine died) is not declared lost for a whole heartbeat timeout, and work placed on it meanwhile
     *     would only be lost again; its running attempts are left alone until the rescuer decides
     */
    public static Loaded load(Connection c, Instant now, Duration heardWithin) throws SQLException {
        return load(c, now, heardWithin, new StagePlanCache());
    }

    /**
     * As {@link #load(Connection, Instant, Duration)}, taking the stage plans of queued jobs whose row did not change
     * from {@code plans} (the scheduling loop keeps one between cycles) instead of parsing their specs again.
     */
    public static Loaded load(Connection c, Instant now, Duration heardWithin, StagePlanCache plans)
            throws SQLException {
        List<Pool> pools = pools(c);
        List<RunnerNode> runners = runners(c, now.minus(heardWithin));
        List<Project> projects = projects(c, now);
        Map<Long, StoredPending> stored = new HashMap<>();
        List<QueuedJob> queue = withStagePlans(c, queue(c, stored), plans);
        List<RunningAttempt> running = running(c);
        return new Loaded(new ClusterSnapshot(now, pools, runners, projects, queue, running), stored);
    }

    private static List<Pool> pools(Connection c) throws SQLException {
        List<Pool> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select id, name, gpu_type, price_per_gpu_hour from pools");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Pool(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBigDecimal(4)));
            }
        }
        return out;
    }

    private static List<RunnerNode> runners(Connection c, Instant heardSince) throws SQLException {
        return Jdbc.query(
                c,
                """
                select r.id, r.pool_id, r.total_gpus, r.total_gpus - coalesce(u.used, 0),
                       r.state = ? and coalesce(r.last_heartbeat_at, r.registered_at) >= ?,
                       m.smallest, coalesce(m.shared, false)
                  from runners r
                  left join lateral (
                       -- memory is known only when every device reports it (as the planner judges it); a row
                       -- that is not a list of devices must not stop every cycle
                       select case when bool_and(jsonb_typeof(d -> 'memoryBytes') = 'number')
                                   then min((d ->> 'memoryBytes')::numeric)::bigint end smallest,
                              bool_and(d ->> 'kind' = 'cpu') shared
                         from jsonb_array_elements(case when jsonb_typeof(r.devices) = 'array' then r.devices
                                                        else '[]' end) d) m on true
                  left join (select ar.runner_id, sum(ar.gpus) used from attempt_runners ar
                               join attempts a on a.id = ar.attempt_id and a.ended_at is null
                              group by ar.runner_id) u on u.runner_id = r.id
                 where r.state = any(?)""",
                rs -> new RunnerNode(
                        rs.getLong(1),
                        rs.getLong(2),
                        rs.getInt(3),
                        Math.max(0, rs.getInt(4)),
                        rs.getBoolean(5),
                        new RunnerMemory(rs.getObject(6, Long.class), rs.getBoolean(7))),
                RunnerState.ACTIVE.word(),
                heardSince,
                c.createArrayOf("text", new String[] {RunnerState.ACTIVE.word(), RunnerState.DRAINING.word()}));
    }

    private static List<Project> projects(Connection c, Instant now) throws SQLException {
        List<Project> out = new ArrayList<>();
        String sql = """
                select p.id, p.name, p.budget_usd, coalesce(l.spent, 0), p.share, coalesce(l.recent, 0) / 3600.0
                  from projects p
                  left join (select project_id, sum(amount_usd) spent,
                                    sum(gpu_seconds) filter (where to_at > ?) recent
                               from cost_ledger group by project_id) l on l.project_id = p.id""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(now.minusSeconds(24 * 3600)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Project(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getBigDecimal(3),
                            rs.getBigDecimal(4),
                            rs.getDouble(5),
                            rs.getDouble(6)));
                }
            }
        }
        return out;
    }

    /**
     * SQL for one data-parallel replica's GPUs of a row of {@code jobs} aliased {@code j}: a gang, and an elastic
     * job's size, count whole replicas. A multi-node job without replicas is never cut; other jobs, 1 GPU.
     */
    private static String replicaGpus(String j) {
        return """
                case when jsonb_typeof(%1$s.spec #> '{parallelism,dataParallel}') = 'number'
                     then greatest(1, %1$s.gpus
                                      / greatest(1, (%1$s.spec #>> '{parallelism,dataParallel}')::numeric::int))
                     when %1$s.multi_node then %1$s.gpus
                     else 1 end""".formatted(j);
    }

    private static List<QueuedJob> queue(Connection c, Map<Long, StoredPending> stored) throws SQLException {
        List<QueuedJob> out = new ArrayList<>();
        String sql = """
                select id, project_id, pool_id, gpu_type, priority, gpus, min_gpus, multi_node, max_runtime_seconds,
                       max_cost_usd, accrued_cost_usd, submitted_at, version,
                       pending_reason, pending_message, queue_position, estimated_start_at,
                       %s
                  from jobs j where state = ?""".formatted(replicaGpus("j"));
        try (PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = query(ps, JobState.QUEUED.word())) {
            while (rs.next()) {
                long id = rs.getLong(1);
                long pool = rs.getLong(3);
                Long poolId = rs.wasNull() ? null : pool;
                out.add(new QueuedJob(
                        id,
                        rs.getLong(2),
                        poolId,
                        rs.getString(4),
                        Priority.parse(rs.getString(5)),
                        rs.getInt(6),
                        rs.getInt(7),
                        rs.getBoolean(8),
                        rs.getLong(9),
                        rs.getBigDecimal(10),
                        rs.getBigDecimal(11),
                        rs.getTimestamp(12).toInstant(),
                        rs.getLong(13),
                        rs.getInt(18)));
                int position = rs.getInt(16);
                Integer positionOrNull = rs.wasNull() ? null : position;
                Timestamp estimate = rs.getTimestamp(17);
                stored.put(
                        id,
                        new StoredPending(
                                rs.getString(14),
                                rs.getString(15),
                                positionOrNull,
                                estimate == null ? null : estimate.toInstant()));
            }
        }
        return out;
    }

    /**
     * The queue with each multi-node job's stage plan: from {@code plans} when its row is at the version they were
     * parsed at, else from its spec, read (only for those jobs) and parsed once here.
     */
    private static List<QueuedJob> withStagePlans(Connection c, List<QueuedJob> queue, StagePlanCache plans)
            throws SQLException {
        List<Long> unknown = new ArrayList<>();
        Set<Long> multiNode = new HashSet<>();
        for (QueuedJob job : queue) {
            if (job.multiNode()) {
                multiNode.add(job.id());
                if (!plans.holds(job.id(), job.version())) {
                    unknown.add(job.id());
                }
            }
        }
        Map<Long, String> specs = unknown.isEmpty() ? Map.of() : specs(c, unknown);
        List<QueuedJob> out = new ArrayList<>(queue.size());
        for (QueuedJob job : queue) {
            PipelineStages stages =
                    job.multiNode() ? plans.plan(job.id(), job.version(), () -> pipelineOf(specs.get(job.id()))) : null;
            out.add(stages == null ? job : cutBetweenStages(job, stages));
        }
        plans.keepOnly(multiNode);
        return out;
    }

    /** The stored specs of these jobs, as text. */
    private static Map<Long, String> specs(Connection c, List<Long> jobIds) throws SQLException {
        Map<Long, String> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("select id, spec::text from jobs where id = any(?)");
                ResultSet rs = query(ps, c.createArrayOf("bigint", jobIds.toArray()))) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getString(2));
            }
        }
        return out;
    }

    /** The job with each replica cut anywhere between these stages (all replicas the same way). */
    private static QueuedJob cutBetweenStages(QueuedJob job, PipelineStages stages) {
        return new QueuedJob(
                job.id(),
                job.projectId(),
                job.poolId(),
                job.gpuType(),
                job.priority(),
                job.gpus(),
                job.minGpus(),
                job.multiNode(),
                job.maxRuntimeSeconds(),
                job.maxCostUsd(),
                job.accruedCostUsd(),
                job.submittedAt(),
                job.version(),
                stages.replicas() == 1 ? 1 : job.replicaGpus(),
                stages);
    }

    /**
     * The stages of a multi-node job whose replicas may be cut between runners, each a tensor-parallel group of t
     * GPUs with the memory plan of each GPU of it (the one the submission judged the runners by), or null for any
     * other job.
     */
    private static PipelineStages pipelineOf(String storedSpec) {
        if (storedSpec == null) {
            return null;
        }
        try {
            JobSpec spec = SpecDocument.parse(storedSpec);
            return PipelineCut.allowed(spec)
                    ? new PipelineStages(
                            PipelineCut.stageBytes(spec), PipelineCut.replicas(spec), PipelineCut.tensorParallel(spec))
                    : null;
        } catch (IllegalArgumentException e) {
            // a spec stored before its rules changed is scheduled as it always was, by whole replicas
            return null;
        }
    }

    private static List<RunningAttempt> running(Connection c) throws SQLException {
        Map<Long, List<Share>> shares = new HashMap<>();
        String sharesSql = """
                select ar.attempt_id, ar.runner_id, ar.gpus from attempt_runners ar
                  join attempts a on a.id = ar.attempt_id and a.ended_at is null order by ar.attempt_id, ar.rank""";
        try (PreparedStatement ps = c.prepareStatement(sharesSql);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                shares.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>())
                        .add(new Share(rs.getLong(2), rs.getInt(3)));
            }
        }
        List<RunningAttempt> out = new ArrayList<>();
        String sql = """
                select a.id, a.job_id, j.project_id, r.pool_id, j.priority, a.gpus, j.gpus, a.started_at,
                       a.last_checkpoint_at, j.max_runtime_seconds, j.max_cost_usd, j.accrued_cost_usd,
                       a.state = any(?), j.multi_node, %s,
                       case when j.multi_node and a.gpus < j.gpus then j.spec::text end
                  from attempts a join jobs j on j.id = a.job_id join runners r on r.id = a.runner_id
                 where a.ended_at is null""".formatted(replicaGpus("j"));
        Array askedToStop = c.createArrayOf(
                "text",
                AttemptState.ASKED_TO_STOP.stream().map(AttemptState::word).toArray());
        try (PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = query(ps, askedToStop)) {
            while (rs.next()) {
                long attemptId = rs.getLong(1);
                Timestamp checkpoint = rs.getTimestamp(9);
                BigDecimal maxCost = rs.getBigDecimal(11);
                out.add(new RunningAttempt(
                        attemptId,
                        rs.getLong(2),
                        rs.getLong(3),
                        rs.getLong(4),
                        Priority.parse(rs.getString(5)),
                        shares.getOrDefault(attemptId, List.of()),
                        rs.getInt(6),
                        rs.getInt(7),
                        rs.getTimestamp(8).toInstant(),
                        checkpoint == null ? null : checkpoint.toInstant(),
                        rs.getLong(10),
                        maxCost,
                        rs.getBigDecimal(12),
                        rs.getBoolean(13),
                        rs.getBoolean(14),
                        rs.getInt(15),
                        // only a short multi-node attempt can grow, and only growth reads its cut
                        pipelineOf(rs.getString(16))));
            }
        }
        return out;
    }

    /** Binds one parameter and runs the query; the caller closes the result with the statement. */
    private static ResultSet query(PreparedStatement ps, Object parameter) throws SQLException {
        ps.setObject(1, parameter);
        return ps.executeQuery();
    }
}
