package dev.trainyard.api.scheduling;

import dev.trainyard.api.db.Jdbc;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Small builders that insert fixture rows with plain SQL, and readers for what the tests assert. */
final class Rows {
    /** The instant every test's story starts at. */
    static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");
    /** How recent a runner's heartbeat must be for it to take work, in snapshots read by these tests. */
    static final Duration HEARD_WITHIN = Duration.ofMinutes(1);

    private final Connection c;
    private int names;

    Rows(Connection c) {
        this.c = c;
    }

    private String name(String kind) {
        return kind + "-" + (++names);
    }

    long pool(String gpuType, String pricePerGpuHour) throws SQLException {
        return Jdbc.queryOne(c, """
                insert into pools (name, gpu_type, price_per_gpu_hour, created_at) values (?, ?, ?, ?) returning id""", rs -> rs.getLong(1), name("pool"), gpuType, new BigDecimal(pricePerGpuHour), T0)
                .orElseThrow();
    }

    long project(String budgetUsd) throws SQLException {
        return project(budgetUsd, 1.0);
    }

    long project(String budgetUsd, double share) throws SQLException {
        return Jdbc.queryOne(
                        c,
                        """
                insert into projects (name, budget_usd, share, created_at) values (?, ?, ?, ?) returning id""",
                        rs -> rs.getLong(1),
                        name("project"),
                        budgetUsd == null ? null : new BigDecimal(budgetUsd),
                        share,
                        T0)
                .orElseThrow();
    }

    RunnerBuilder runner(long poolId) {
        return new RunnerBuilder(poolId);
    }

    JobBuilder job(long projectId) {
        return new JobBuilder(projectId);
    }

    AttemptBuilder attempt(long jobId) {
        return new AttemptBuilder(jobId);
    }

    void ledger(long projectId, long jobId, long attemptId, Instant from, Instant to, double gpuSeconds, String amount)
            throws SQLException {
        Jdbc.update(c, """
                insert into cost_ledger (project_id, job_id, attempt_id, from_at, to_at, gpu_seconds, amount_usd, created_at)
                values (?, ?, ?, ?, ?, ?, ?, ?)""", projectId, jobId, attemptId, from, to, gpuSeconds, new BigDecimal(amount), to);
    }

    final class RunnerBuilder {
        private final long poolId;
        private int gpus = 8;
        private String state = "ACTIVE";
        private Instant registeredAt = T0.minusSeconds(3600);
        private Instant heartbeatAt = T0;
        private String devices = "[]";

        RunnerBuilder(long poolId) {
            this.poolId = poolId;
        }

        RunnerBuilder gpus(int value) {
            gpus = value;
            return this;
        }

        RunnerBuilder state(String value) {
            state = value;
            return this;
        }

        RunnerBuilder registeredAt(Instant value) {
            registeredAt = value;
            return this;
        }

        RunnerBuilder heartbeatAt(Instant value) {
            heartbeatAt = value;
            return this;
        }

        /** The devices as the runner registered them, a JSON array. */
        RunnerBuilder devices(String json) {
            devices = json;
            return this;
        }

        long insert() throws SQLException {
            return Jdbc.queryOne(
                            c,
                            """
                    insert into runners (pool_id, name, host, state, total_gpus, registered_at, last_heartbeat_at, devices)
                    values (?, ?, 'host', ?, ?, ?, ?, cast(? as jsonb)) returning id""",
                            rs -> rs.getLong(1),
                            poolId,
                            name("runner"),
                            state,
                            gpus,
                            registeredAt,
                            heartbeatAt,
                            devices)
                    .orElseThrow();
        }
    }

    final class JobBuilder {
        private final long projectId;
        private Long poolId;
        private String gpuType;
        private String priority = "NORMAL";
        private int gpus = 1;
        private Integer minGpus;
        private boolean multiNode;
        private Integer replicas;
        private String maxCost;
        private long maxRuntimeSeconds = 3600;
        private int maxRestarts = 2;
        private int restarts;
        private String state = "QUEUED";
        private boolean cancelRequested;
        private Instant submittedAt = T0.minusSeconds(600);
        private String spec;

        JobBuilder(long projectId) {
            this.projectId = projectId;
        }

        JobBuilder pool(long value) {
            poolId = value;
            return this;
        }

        JobBuilder gpuType(String value) {
            gpuType = value;
            return this;
        }

        JobBuilder priority(String value) {
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

        JobBuilder maxCost(String value) {
            maxCost = value;
            return this;
        }

        JobBuilder maxRuntimeSeconds(long value) {
            maxRuntimeSeconds = value;
            return this;
        }

        JobBuilder maxRestarts(int value) {
            maxRestarts = value;
            return this;
        }

        JobBuilder restarts(int value) {
            restarts = value;
            return this;
        }

        JobBuilder state(String value) {
            state = value;
            return this;
        }

        JobBuilder cancelRequested() {
            cancelRequested = true;
            return this;
        }

        JobBuilder submittedAt(Instant value) {
            submittedAt = value;
            return this;
        }

        long insert() throws SQLException {
            boolean terminal = List.of("SUCCEEDED", "FAILED", "CANCELLED", "BUDGET_EXHAUSTED")
                    .contains(state);
            return Jdbc.queryOne(
                            c,
                            """
                    insert into jobs (project_id, name, spec, priority, pool_id, gpu_type, gpus, min_gpus, multi_node,
                                      max_cost_usd, max_runtime_seconds, max_restarts, total_steps, state,
                                      cancel_requested, restarts, submitted_at, finished_at)
                    values (?, ?, cast(? as jsonb), ?, ?, ?, ?, ?, ?, ?, ?, ?, 1000, ?, ?, ?, ?, ?) returning id""",
                            rs -> rs.getLong(1),
                            projectId,
                            name("job"),
                            spec(),
                            priority,
                            poolId,
                            poolId == null && gpuType == null ? "a100" : gpuType,
                            gpus,
                            minGpus == null ? gpus : minGpus,
                            multiNode,
                            maxCost == null ? null : new BigDecimal(maxCost),
                            maxRuntimeSeconds,
                            maxRestarts,
                            state,
                            cancelRequested,
                            restarts,
                            submittedAt,
                            terminal ? T0 : null)
                    .orElseThrow();
        }

        /** Multi-node jobs are data-parallel; one replica per GPU leaves their gangs free to split anywhere. */
        private String spec() {
            if (spec != null) {
                return spec;
            }
            return multiNode
                    ? "{\"parallelism\": {\"dataParallel\": " + (replicas == null ? gpus : replicas) + "}}"
                    : "{}";
        }

        /** The stored spec, instead of the minimal one the other settings imply. */
        JobBuilder spec(String json) {
            spec = json;
            return this;
        }

        JobBuilder replicas(int value) {
            replicas = value;
            return this;
        }
    }

    final class AttemptBuilder {
        private final long jobId;
        private final List<long[]> shares = new ArrayList<>();
        private String state = "RUNNING";
        private String stopReason;
        private Instant stopRequestedAt;
        private Instant startedAt = T0.minusSeconds(300);
        private Instant costAccountedTo;
        private Instant endedAt;
        private Instant lastCheckpointAt;

        AttemptBuilder(long jobId) {
            this.jobId = jobId;
        }

        /** A share of GPUs on a runner; the first one added is rank 0 and names the attempt's runner. */
        AttemptBuilder on(long runnerId, int gpus) {
            shares.add(new long[] {runnerId, gpus});
            return this;
        }

        AttemptBuilder state(String value) {
            state = value;
            return this;
        }

        /** Asked to stop for {@code reason} at {@code at}, in the attempt state a stop request leaves. */
        AttemptBuilder stopping(String attemptState, String reason, Instant at) {
            state = attemptState;
            stopReason = reason;
            stopRequestedAt = at;
            return this;
        }

        AttemptBuilder startedAt(Instant value) {
            startedAt = value;
            return this;
        }

        AttemptBuilder costAccountedTo(Instant value) {
            costAccountedTo = value;
            return this;
        }

        AttemptBuilder lastCheckpointAt(Instant value) {
            lastCheckpointAt = value;
            return this;
        }

        AttemptBuilder ended(Instant at) {
            state = "ENDED";
            endedAt = at;
            return this;
        }

        long insert() throws SQLException {
            int gpus = shares.stream().mapToInt(s -> (int) s[1]).sum();
            long id = Jdbc.queryOne(
                            c,
                            """
                    insert into attempts (job_id, number, runner_id, gpus, lease_token, state, stop_reason,
                                          stop_requested_at, started_at, ended_at, last_checkpoint_at, cost_accounted_to)
                    values (?, (select coalesce(max(number), 0) + 1 from attempts where job_id = ?), ?, ?,
                            gen_random_uuid(), ?, ?, ?, ?, ?, ?, ?) returning id""",
                            rs -> rs.getLong(1),
                            jobId,
                            jobId,
                            shares.get(0)[0],
                            gpus,
                            state,
                            stopReason,
                            stopRequestedAt,
                            startedAt,
                            endedAt,
                            lastCheckpointAt,
                            costAccountedTo == null ? startedAt : costAccountedTo)
                    .orElseThrow();
            for (int rank = 0; rank < shares.size(); rank++) {
                Jdbc.update(
                        c,
                        "insert into attempt_runners (attempt_id, rank, runner_id, gpus) values (?, ?, ?, ?)",
                        id,
                        rank,
                        shares.get(rank)[0],
                        (int) shares.get(rank)[1]);
            }
            return id;
        }
    }

    /** A job row as the user sees it through the API. */
    record JobRow(
            String state,
            long version,
            int restarts,
            String stateReason,
            String pendingReason,
            String pendingMessage,
            Integer queuePosition,
            Instant estimatedStart,
            BigDecimal accruedCostUsd,
            Instant finishedAt,
            long xmin) {}

    JobRow jobRow(long id) throws SQLException {
        return Jdbc.queryOne(
                        c,
                        """
                select state, version, restarts, state_reason, pending_reason, pending_message, queue_position,
                       estimated_start_at, accrued_cost_usd, finished_at, xmin::text::bigint from jobs where id = ?""",
                        rs -> new JobRow(
                                rs.getString(1),
                                rs.getLong(2),
                                rs.getInt(3),
                                rs.getString(4),
                                rs.getString(5),
                                rs.getString(6),
                                (Integer) rs.getObject(7),
                                Jdbc.instant(rs, 8),
                                rs.getBigDecimal(9),
                                Jdbc.instant(rs, 10),
                                rs.getLong(11)),
                        id)
                .orElseThrow();
    }

    /** An attempt row. */
    record AttemptRow(
            long jobId,
            int number,
            long runnerId,
            int gpus,
            String state,
            String stopReason,
            Instant stopRequestedAt,
            Instant endedAt,
            String endReason,
            Instant costAccountedTo,
            BigDecimal accruedCostUsd) {}

    AttemptRow attemptRow(long id) throws SQLException {
        return Jdbc.queryOne(
                        c,
                        """
                select job_id, number, runner_id, gpus, state, stop_reason, stop_requested_at, ended_at, end_reason,
                       cost_accounted_to, accrued_cost_usd from attempts where id = ?""",
                        rs -> new AttemptRow(
                                rs.getLong(1),
                                rs.getInt(2),
                                rs.getLong(3),
                                rs.getInt(4),
                                rs.getString(5),
                                rs.getString(6),
                                Jdbc.instant(rs, 7),
                                Jdbc.instant(rs, 8),
                                rs.getString(9),
                                Jdbc.instant(rs, 10),
                                rs.getBigDecimal(11)),
                        id)
                .orElseThrow();
    }

    /** The job's events as "FROM>TO:REASON", oldest first. */
    List<String> events(long jobId) throws SQLException {
        return Jdbc.query(
                c,
                "select from_state, to_state, reason from job_events where job_id = ? order by id",
                rs -> rs.getString(1) + ">" + rs.getString(2) + ":" + rs.getString(3),
                jobId);
    }

    long count(String sql, Object... args) throws SQLException {
        return Jdbc.queryOne(c, sql, rs -> rs.getLong(1), args).orElseThrow();
    }

    BigDecimal sum(String sql, Object... args) throws SQLException {
        return Jdbc.queryOne(c, sql, rs -> rs.getBigDecimal(1), args).orElseThrow();
    }

    String text(String sql, Object... args) throws SQLException {
        return Jdbc.queryOne(c, sql, rs -> rs.getString(1), args).orElse(null);
    }
}
