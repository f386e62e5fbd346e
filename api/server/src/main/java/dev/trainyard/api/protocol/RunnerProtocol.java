package dev.trainyard.api.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.checkpoints.CheckpointFiles;
import dev.trainyard.api.checkpoints.CheckpointIndex;
import dev.trainyard.api.checkpoints.CheckpointView;
import dev.trainyard.api.config.TrainyardConfig;
import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.db.Transactions;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.jobs.JobSignals;
import dev.trainyard.api.jobs.JobsChanged;
import dev.trainyard.api.jobs.spec.JobSpec;
import dev.trainyard.api.jobs.spec.Violations;
import dev.trainyard.api.lifecycle.AttemptEnder;
import dev.trainyard.api.lifecycle.AttemptState;
import dev.trainyard.api.lifecycle.AttemptTransitions;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.api.lifecycle.RunnerState;
import dev.trainyard.api.lifecycle.RunnerTransitions;
import dev.trainyard.api.lifecycle.StopReason;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;

/** The platform's side of the runner protocol: registration, heartbeats, and every report about an attempt. */
@ApplicationScoped
public class RunnerProtocol {
    static final Pattern METRIC_NAME = Pattern.compile("[a-z0-9_./]{1,64}");
    static final int MAX_POINTS = 20_000;
    static final int MAX_LINES = 2_000;
    static final long MAX_CHECKPOINT_BYTES = 64L << 30;

    private final Transactions transactions;
    private final CheckpointFiles files;
    private final AssignmentWaiters waiters;
    private final TrainyardConfig config;
    private final ObjectMapper json;
    private final InstantSource clock;
    private final MetricSignals metricSignals;
    private final JobSignals signals;

    public RunnerProtocol(Transactions transactions, CheckpointFiles files, AssignmentWaiters waiters,
            TrainyardConfig config, ObjectMapper json, InstantSource clock, MetricSignals metricSignals,
            JobSignals signals) {
        this.signals = signals;
        this.transactions = transactions;
        this.files = files;
        this.waiters = waiters;
        this.config = config;
        this.json = json;
        this.clock = clock;
        this.metricSignals = metricSignals;
    }

    private <T> T inTransaction(Transactions.Work<T> work) {
        return transactions.inNew(work);
    }

    public RunnerMessages.Registration register(long tokenId, RunnerMessages.Register r) {
        validate(r);
        Instant now = clock.instant();
        long id = inTransaction(c -> {
            long poolId = Jdbc.queryOne(c, "select id from pools where name = ?", rs -> rs.getLong(1), r.pool())
                    .orElseThrow(() -> ApiException.InvalidInput.of("pool", "no pool named '" + r.pool() + "'"));
            long runnerId = RunnerTransitions.register(c, new RunnerTransitions.Registration(poolId, r.name(), r.host(),
                    r.devices().size(), write(r.devices()), tokenId), now)
                    .orElseThrow(() -> new ApiException.Conflict(ProblemType.INVALID_STATE,
                            "Runner " + r.name() + " cannot register in its present state"));
            endAttemptsOfRestartedRunner(c, runnerId, now);
            // new capacity, and the attempts it ended may have had other ranks
            signals.changed(JobsChanged.everything());
            return runnerId;
        });
        return new RunnerMessages.Registration(id, Math.max(200, config.runners().heartbeatTimeout().toMillis() / 5),
                config.runners().heartbeatTimeout().toMillis());
    }

    /** A runner that registers again has restarted: whatever it was training is gone. */
    private static void endAttemptsOfRestartedRunner(Connection c, long runnerId, Instant now) throws SQLException {
        List<Long> live = Jdbc.query(c, """
                select distinct a.id from attempts a join attempt_runners ar on ar.attempt_id = a.id
                 where ar.runner_id = ? and a.ended_at is null order by a.id""", rs -> rs.getLong(1), runnerId);
        for (long attempt : live) {
            AttemptEnder.end(c, attempt, AttemptEnder.Ending.LOST, "runner restarted", now);
        }
    }

    public RunnerMessages.HeartbeatAnswer heartbeat(RunnerMessages.Heartbeat h) {
        // a heartbeat counts when it arrives, and the scheduler gives work only to runners heard within half the
        // timeout (SnapshotLoader); a long poll of at most a quarter keeps a waiting runner well inside that
        long longest = Math.min(20_000, config.runners().heartbeatTimeout().toMillis() / 4);
        long waitMs = h.waitMs() == null ? 0 : Math.max(0, Math.min(longest, h.waitMs()));
        long deadline = System.currentTimeMillis() + waitMs;
        long version = waiters.version(h.runnerId());
        RunnerMessages.HeartbeatAnswer answer = inTransaction(c -> beat(c, h.runnerId()));
        // while the runner waits for work, a wake-up only reads: the heartbeat was recorded once, above
        while (answer.assignments().isEmpty() && deadline - System.currentTimeMillis() > 0) {
            waiters.awaitChange(h.runnerId(), version, deadline - System.currentTimeMillis());
            version = waiters.version(h.runnerId());
            String state = answer.runnerState();
            answer = inTransaction(c -> new RunnerMessages.HeartbeatAnswer(state, assignments(c, h.runnerId())));
        }
        return answer;
    }

    private RunnerMessages.HeartbeatAnswer beat(Connection c, long runnerId) throws SQLException {
        Instant now = clock.instant();
        try (Statement s = c.createStatement()) {
            // a heartbeat is a liveness hint: one lost in a database crash costs nothing, the next comes within
            // seconds; so this commit does not wait for the WAL flush
            s.execute("set local synchronous_commit = off");
        }
        RunnerState state = RunnerTransitions.heartbeat(c, runnerId, now)
                .orElseThrow(() -> new ApiException.Conflict(ProblemType.INVALID_STATE,
                        "Runner " + runnerId + " is unknown, lost or offline; register again"));
        return new RunnerMessages.HeartbeatAnswer(state.word(), assignments(c, runnerId));
    }

    private List<RunnerMessages.Assignment> assignments(Connection c, long runnerId) throws SQLException {
        return Jdbc.query(c, """
                select a.id, a.job_id, a.number, a.lease_token, j.spec, ar.gpus, ar.rank,
                       (select count(*) from attempt_runners x where x.attempt_id = a.id), a.state, a.stop_reason,
                       k.id, k.step, k.sha256, k.size_bytes,
                       (select sum(x.gpus) from attempt_runners x where x.attempt_id = a.id),
                       (select coalesce(sum(x.gpus), 0) from attempt_runners x
                         where x.attempt_id = a.id and x.rank < ar.rank),
                       a.rendezvous_host, a.rendezvous_port
                  from attempt_runners ar join attempts a on a.id = ar.attempt_id join jobs j on j.id = a.job_id
                  left join checkpoints k on k.id = a.resume_checkpoint_id and k.state = 'COMPLETE'
                 where ar.runner_id = ? and a.ended_at is null order by a.id""",
                rs -> {
                    long checkpoint = rs.getLong(11);
                    RunnerMessages.CheckpointRef resume = rs.wasNull() ? null
                            : new RunnerMessages.CheckpointRef(checkpoint, rs.getLong(12), rs.getString(13), rs.getLong(14));
                    JobSpec spec = read(rs.getString(5));
                    ReplicaShare share = ReplicaShare.of(spec, rs.getInt(15), rs.getInt(16), rs.getInt(6));
                    String host = rs.getString(17);
                    String rendezvous = host == null ? null : host + ":" + rs.getInt(18);
                    return new RunnerMessages.Assignment(rs.getLong(1), rs.getLong(2), rs.getInt(3),
                            rs.getString(4), spec, rs.getInt(6), rs.getInt(7), rs.getInt(8), share.first(),
                            share.count(), rendezvous, rs.getString(9), StopReason.protocolWordOf(rs.getString(10)),
                            resume);
                }, runnerId);
    }

    /**
     * Which of the job's data-parallel replicas a runner trains: the scheduler cuts a gang only between whole
     * replicas, so the runner's GPUs, and those of the ranks before it, count whole replicas.
     */
    record ReplicaShare(int first, int count) {
        static ReplicaShare of(JobSpec spec, int attemptGpus, int gpusBefore, int gpus) {
            int replicas = spec.parallelism() == null || spec.parallelism().dataParallel() == null
                    ? 1 : Math.max(1, spec.parallelism().dataParallel());
            int perReplica = Math.max(1, attemptGpus / replicas);
            return new ReplicaShare(gpusBefore / perReplica, Math.max(1, gpus / perReplica));
        }
    }

    /** Rank 0 of a multi-runner attempt says where its TCP stores listen; the other ranks learn it on heartbeats. */
    public RunnerMessages.AttemptAck rendezvous(long attemptId, RunnerMessages.Rendezvous r) {
        Violations v = new Violations();
        if (r == null) {
            v.add("$", "a body is required");
            v.throwIfAny();
        }
        if (v.require("host", r.host()) && (r.host().isBlank() || r.host().length() > 255)) {
            v.add("host", "must be 1-255 characters");
        }
        if (v.require("port", r.port())) {
            v.checkRange("port", r.port(), 1, 65535);
        }
        v.throwIfAny();
        return inTransaction(c -> {
            FencedAttempt a = FencedAttempt.check(c, attemptId, r.leaseToken());
            int updated = Jdbc.update(c, """
                    update attempts set rendezvous_host = ?, rendezvous_port = ?
                     where id = ? and (rendezvous_host is null or (rendezvous_host = ? and rendezvous_port = ?))""",
                    r.host(), r.port(), attemptId, r.host(), r.port());
            if (updated == 0) {
                throw new ApiException.Conflict(ProblemType.INVALID_STATE,
                        "Attempt " + attemptId + " already has another rendezvous address");
            }
            signals.changed(JobsChanged.runners(runnersOf(c, attemptId)));
            return new RunnerMessages.AttemptAck(attemptId, a.state(), a.stop());
        });
    }

    public RunnerMessages.AttemptAck start(long attemptId, RunnerMessages.AttemptCall call) {
        Instant now = clock.instant();
        return inTransaction(c -> {
            FencedAttempt a = FencedAttempt.check(c, attemptId, call == null ? null : call.leaseToken());
            AttemptState seen = AttemptState.ofWord(a.state());
            AttemptState state = AttemptTransitions.start(c, attemptId, a.jobId(), seen, a.number(), now);
            if (state != seen) {
                signals.changed(JobsChanged.runners(runnersOf(c, attemptId)));
            }
            return new RunnerMessages.AttemptAck(attemptId, state.word(), a.stop());
        });
    }

    public RunnerMessages.AttemptAck metrics(long attemptId, RunnerMessages.MetricsBatch batch) {
        Violations v = new Violations();
        if (batch == null || !v.require("points", batch.points())) {
            v.add("points", "is required");
            v.throwIfAny();
        }
        if (batch.points().size() > MAX_POINTS) {
            v.add("points", "at most " + MAX_POINTS + " points per batch");
        }
        for (int i = 0; i < batch.points().size() && v.isEmpty(); i++) {
            RunnerMessages.MetricPoint p = batch.points().get(i);
            if (p == null || p.name() == null || !METRIC_NAME.matcher(p.name()).matches()) {
                v.add("points[" + i + "].name", "must be 1-64 of a-z, 0-9, '_', '.', '/'");
            } else if (p.step() < 0) {
                v.add("points[" + i + "].step", "must not be negative");
            }
        }
        v.throwIfAny();
        MetricColumns columns = MetricColumns.of(batch.points());
        Instant now = clock.instant();
        FencedAttempt a = inTransaction(c -> {
            FencedAttempt fenced = FencedAttempt.checkForReport(c, attemptId, batch.leaseToken());
            upsertPoints(c, fenced, columns, now);
            return fenced;
        });
        metricSignals.pointsCommitted(a.jobId());
        return new RunnerMessages.AttemptAck(attemptId, a.state(), a.stop());
    }

    /**
     * One statement for the whole batch (arrays bound as three parameters), then the job's progress, touched
     * only when it grows so that re-sent batches and lagging ranks take no lock on the job row. The metrics
     * stream is signalled after the commit, coalesced ({@link MetricSignals}).
     */
    private static void upsertPoints(Connection c, FencedAttempt a, MetricColumns columns, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                insert into metric_points (job_id, attempt_id, step, name, value, at)
                select ?, ?, p.step, p.name, p.value, ?
                  from unnest(cast(? as bigint[]), cast(? as text[]), cast(? as float8[])) as p (step, name, value)
                on conflict (job_id, name, step) do update
                   set value = excluded.value, attempt_id = excluded.attempt_id, at = excluded.at""")) {
            ps.setLong(1, a.jobId());
            ps.setLong(2, a.attemptId());
            ps.setTimestamp(3, Timestamp.from(now));
            PGConnection pg = c.unwrap(PGConnection.class);
            ps.setArray(4, pg.createArrayOf("int8", columns.steps()));
            ps.setArray(5, pg.createArrayOf("text", columns.names()));
            ps.setArray(6, pg.createArrayOf("float8", columns.values()));
            ps.executeUpdate();
        }
        Jdbc.update(c, "update jobs set last_step = ? where id = ? and last_step < ?",
                columns.maxStep(), a.jobId(), columns.maxStep());
    }

    public RunnerMessages.AttemptAck logs(long attemptId, RunnerMessages.LogBatch batch) {
        if (batch == null || batch.lines() == null || batch.lines().size() > MAX_LINES) {
            throw ApiException.InvalidInput.of("lines", "1-" + MAX_LINES + " lines are required");
        }
        Instant now = clock.instant();
        return inTransaction(c -> {
            FencedAttempt a = FencedAttempt.check(c, attemptId, batch.leaseToken());
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into job_logs (job_id, attempt_id, at, line) values (?, ?, ?, ?)")) {
                for (RunnerMessages.LogLine l : batch.lines()) {
                    String line = l == null || l.line() == null ? "" : l.line();
                    ps.setLong(1, a.jobId());
                    ps.setLong(2, attemptId);
                    ps.setTimestamp(3, Timestamp.from(l == null || l.at() == null ? now : l.at()));
                    ps.setString(4, line.length() > 4000 ? line.substring(0, 4000) : line);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return new RunnerMessages.AttemptAck(attemptId, a.state(), a.stop());
        });
    }

    /** Receives a checkpoint; it counts only if its SHA-256 matches the one the runner declared. */
    public CheckpointView checkpoint(long attemptId, String leaseToken, long step, String declaredSha256,
            Double evalLoss, InputStream body) {
        if (declaredSha256 == null || !declaredSha256.toLowerCase(Locale.ROOT).matches("[0-9a-f]{64}")) {
            throw ApiException.InvalidInput.of("X-Checksum-Sha256", "a hex SHA-256 of the body is required");
        }
        if (step < 0) {
            throw ApiException.InvalidInput.of("step", "must not be negative");
        }
        FencedAttempt before = inTransaction(c -> FencedAttempt.check(c, attemptId, leaseToken));
        CheckpointFiles.Received received = files.receive(before.jobId(), body, MAX_CHECKPOINT_BYTES);
        if (!received.sha256().equals(declaredSha256.toLowerCase(Locale.ROOT))) {
            files.discard(received);
            throw new ApiException.InvalidInput(ProblemType.CHECKSUM_MISMATCH, "The upload's SHA-256 is "
                    + received.sha256() + ", not the declared " + declaredSha256 + "; the checkpoint was refused");
        }
        Instant now = clock.instant();
        try {
            return inTransaction(c -> {
                FencedAttempt a = FencedAttempt.check(c, attemptId, leaseToken);
                String path = files.keep(received, a.jobId(), attemptId, step);
                long id = CheckpointIndex.insertComplete(c, a.jobId(), attemptId, step, path, received.bytes(),
                        received.sha256(), evalLoss, now);
                Jdbc.update(c, "update attempts set last_checkpoint_at = ? where id = ?", now, attemptId);
                retain(c, a.jobId());
                return new CheckpointView(id, a.jobId(), attemptId, step, received.bytes(), received.sha256(),
                        evalLoss, now);
            });
        } catch (RuntimeException e) {
            files.discard(received);
            throw e;
        }
    }

    private void retain(Connection c, long jobId) throws SQLException {
        JobSpec spec = Jdbc.queryOne(c, "select spec from jobs where id = ?", rs -> read(rs.getString(1)), jobId)
                .orElseThrow();
        int keepLast = spec.checkpoint() == null || spec.checkpoint().keepLast() == null ? 3 : spec.checkpoint().keepLast();
        boolean keepBest = spec.checkpoint() != null && Boolean.TRUE.equals(spec.checkpoint().keepBest());
        CheckpointIndex.retain(c, jobId, keepLast, keepBest);
    }

    public RunnerMessages.AttemptAck end(long attemptId, RunnerMessages.AttemptEnd end) {
        if (end == null) {
            throw ApiException.InvalidInput.of("$", "a body is required");
        }
        AttemptEnder.Ending ending = parseOutcome(end.outcome());
        Instant now = clock.instant();
        return inTransaction(c -> {
            FencedAttempt a = FencedAttempt.check(c, attemptId, end.leaseToken());
            if (end.finalStep() != null) {
                Jdbc.update(c, "update jobs set last_step = greatest(last_step, ?) where id = ?", end.finalStep(), a.jobId());
            }
            String state = AttemptEnder.end(c, attemptId, ending, end.message(), now).map(JobState::word)
                    .orElse(AttemptState.ENDED.word());
            // devices were freed, and the attempt's other ranks must stop
            signals.changed(JobsChanged.runners(runnersOf(c, attemptId)).withSchedule());
            return new RunnerMessages.AttemptAck(attemptId, AttemptState.ENDED.word(), state);
        });
    }

    private static AttemptEnder.Ending parseOutcome(String outcome) {
        if (outcome != null) {
            switch (outcome.toUpperCase(Locale.ROOT)) {
                case "SUCCEEDED":
                    return AttemptEnder.Ending.SUCCEEDED;
                case "FAILED":
                    return AttemptEnder.Ending.FAILED;
                case "STOPPED":
                    return AttemptEnder.Ending.STOPPED;
                case "LOST":
                    return AttemptEnder.Ending.LOST;
                default:
                    break;
            }
        }
        throw ApiException.InvalidInput.of("outcome", "must be SUCCEEDED, FAILED, STOPPED or LOST");
    }

    public CheckpointIndex.Row checkpointForResume(long checkpointId) {
        return inTransaction(c -> CheckpointIndex.findAny(c, checkpointId))
                .orElseThrow(() -> new ApiException.NotFound("checkpoint", checkpointId));
    }

    private static void validate(RunnerMessages.Register r) {
        Violations v = new Violations();
        if (r == null) {
            v.add("$", "a body is required");
            v.throwIfAny();
        }
        if (v.require("name", r.name()) && !r.name().matches("[A-Za-z0-9._-]{1,100}")) {
            v.add("name", "must be 1-100 letters, digits, '.', '_' or '-'");
        }
        if (v.require("host", r.host()) && (r.host().isBlank() || r.host().length() > 255)) {
            v.add("host", "must be 1-255 characters");
        }
        v.require("pool", r.pool());
        if (v.require("devices", r.devices()) && (r.devices().isEmpty() || r.devices().size() > 512)) {
            v.add("devices", "must list 1-512 devices");
        }
        v.throwIfAny();
    }

    /** The runners holding a rank of the attempt: whose heartbeats show a change to it. */
    private static List<Long> runnersOf(Connection c, long attemptId) throws SQLException {
        return Jdbc.query(c, "select runner_id from attempt_runners where attempt_id = ?", rs -> rs.getLong(1),
                attemptId);
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private JobSpec read(String spec) {
        try {
            return json.readValue(spec, JobSpec.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored spec does not read back", e);
        }
    }
}
