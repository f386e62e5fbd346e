package dev.trainyard.api.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.config.TrainyardConfig;
import dev.trainyard.api.db.Transactions;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.jobs.JobSignals;
import dev.trainyard.api.jobs.JobsChanged;
import dev.trainyard.api.lifecycle.AttemptEnder;
import dev.trainyard.api.lifecycle.AttemptTransitions;
import dev.trainyard.api.lifecycle.RunnerState;
import dev.trainyard.api.lifecycle.RunnerTransitions;
import dev.trainyard.api.lifecycle.StopReason;
import dev.trainyard.spec.Violations;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/** Runners' presence: registration, and heartbeats whose answers carry the runner's live assignments. */
@ApplicationScoped
public class Heartbeats {
    private final Transactions transactions;
    private final AssignmentWaiters waiters;
    private final TrainyardConfig config;
    private final ObjectMapper json;
    private final InstantSource clock;
    private final JobSignals signals;

    public Heartbeats(
            Transactions transactions,
            AssignmentWaiters waiters,
            TrainyardConfig config,
            ObjectMapper json,
            InstantSource clock,
            JobSignals signals) {
        this.transactions = transactions;
        this.waiters = waiters;
        this.config = config;
        this.json = json;
        this.clock = clock;
        this.signals = signals;
    }

    /**
     * Registers the token's runner, or registers it again (it restarted); a token registers only its own runner's
     * name, and never a name that another token's runner holds ({@link RunnerIdentity}).
     */
    public RunnerMessages.Registration register(long tokenId, RunnerMessages.Register r) {
        validate(r);
        Instant now = clock.instant();
        long id = transactions.inNew(c -> {
            RunnerIdentity.checkRegistration(c, tokenId, r.name());
            long poolId = AssignmentQueries.poolId(c, r.pool())
                    .orElseThrow(() -> ApiException.InvalidInput.of("pool", "no pool named '" + r.pool() + "'"));
            long runnerId = RunnerTransitions.register(
                            c,
                            new RunnerTransitions.Registration(
                                    poolId, r.name(), r.host(), r.devices().size(), write(r.devices()), tokenId),
                            now)
                    .orElseThrow(() -> new ApiException.Conflict(
                            ProblemType.INVALID_STATE, "Runner " + r.name() + " cannot register in its present state"));
            endAttemptsOfRestartedRunner(c, runnerId, now);
            // new capacity, and the attempts it ended may have had other ranks
            signals.changed(JobsChanged.everything());
            return runnerId;
        });
        return new RunnerMessages.Registration(
                id,
                Math.max(200, config.runners().heartbeatTimeout().toMillis() / 5),
                config.runners().heartbeatTimeout().toMillis());
    }

    /** A runner that registers again has restarted: whatever it was training is gone. */
    private static void endAttemptsOfRestartedRunner(Connection c, long runnerId, Instant now) throws SQLException {
        for (long attempt : AssignmentQueries.liveAttempts(c, runnerId)) {
            AttemptEnder.end(c, attempt, AttemptEnder.Ending.LOST, "runner restarted", now);
        }
    }

    /** Records a heartbeat of the token's own runner; a heartbeat naming another runner is refused. */
    public RunnerMessages.HeartbeatAnswer heartbeat(long tokenId, RunnerMessages.Heartbeat h) {
        // a heartbeat counts when it arrives, and the scheduler gives work only to runners heard within half the
        // timeout (SnapshotLoader); a long poll of at most a quarter keeps a waiting runner well inside that
        long longest = Math.min(20_000, config.runners().heartbeatTimeout().toMillis() / 4);
        long waitMs = h.waitMs() == null ? 0 : Math.max(0, Math.min(longest, h.waitMs()));
        long deadline = System.currentTimeMillis() + waitMs;
        long version = waiters.version(h.runnerId());
        RunnerMessages.HeartbeatAnswer answer = transactions.inNew(c -> {
            RunnerIdentity.checkRunner(c, tokenId, h.runnerId());
            return beat(c, h.runnerId(), Boolean.TRUE.equals(h.leaving()));
        });
        // while the runner waits for work, a wake-up only reads: the heartbeat was recorded once, above
        while (answer.assignments().isEmpty()
                && !Boolean.TRUE.equals(h.leaving())
                && deadline - System.currentTimeMillis() > 0) {
            waiters.awaitChange(h.runnerId(), version, deadline - System.currentTimeMillis());
            version = waiters.version(h.runnerId());
            String state = answer.runnerState();
            answer = transactions.inNew(c ->
                    new RunnerMessages.HeartbeatAnswer(state, AssignmentQueries.assignments(c, json, h.runnerId())));
        }
        return answer;
    }

    private RunnerMessages.HeartbeatAnswer beat(Connection c, long runnerId, boolean leaving) throws SQLException {
        Instant now = clock.instant();
        try (Statement s = c.createStatement()) {
            // a heartbeat is a liveness hint: one lost in a database crash costs nothing, the next comes within
            // seconds; so this commit does not wait for the WAL flush
            s.execute("set local synchronous_commit = off");
        }
        RunnerState state = RunnerTransitions.heartbeat(c, runnerId, now)
                .orElseThrow(() -> new ApiException.Conflict(
                        ProblemType.INVALID_STATE,
                        "Runner " + runnerId + " is unknown, lost or offline; register again"));
        if (leaving) {
            state = leave(c, runnerId, now);
        }
        return new RunnerMessages.HeartbeatAnswer(state.word(), AssignmentQueries.assignments(c, json, runnerId));
    }

    /**
     * A runner stopping on purpose: each live attempt it holds is asked to checkpoint and stop (its job then
     * resumes elsewhere without using a restart), and the runner drains, going OFFLINE once it holds none.
     */
    private RunnerState leave(Connection c, long runnerId, Instant now) throws SQLException {
        List<Long> live = AssignmentQueries.liveAttempts(c, runnerId);
        for (long attempt : live) {
            Optional<Long> job = AssignmentQueries.jobOf(c, attempt);
            if (job.isPresent()) {
                AttemptTransitions.requestStop(
                        c,
                        attempt,
                        job.get(),
                        StopReason.RUNNER_STOP,
                        "Runner " + runnerId + " is stopping: checkpointing to resume elsewhere",
                        now);
            }
        }
        RunnerState state = RunnerTransitions.leave(c, runnerId, !live.isEmpty())
                .orElseThrow(() -> new ApiException.Conflict(
                        ProblemType.INVALID_STATE, "Runner " + runnerId + " is no longer present"));
        signals.changed(JobsChanged.everything());
        return state;
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
        if (v.require("devices", r.devices())
                && (r.devices().isEmpty() || r.devices().size() > 512)) {
            v.add("devices", "must list 1-512 devices");
        } else if (r.devices() != null) {
            ProtocolBodies.checkDevices(v, r.devices());
        }
        v.throwIfAny();
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
