package dev.trainyard.api.scheduling;

import dev.trainyard.api.checkpoints.CheckpointFiles;
import dev.trainyard.api.checkpoints.CheckpointIndex;
import dev.trainyard.api.config.TrainyardConfig;
import dev.trainyard.api.jobs.JobSignals;
import dev.trainyard.api.jobs.JobsChanged;
import dev.trainyard.scheduler.Decision;
import dev.trainyard.scheduler.Scheduler;
import dev.trainyard.scheduler.SchedulerPolicy;
import io.agroal.api.AgroalDataSource;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * The scheduling leader's cycle around the pure policy (the scheduler module's {@code SchedulingCycle} is one run
 * of that policy): under the lease, (1) housekeeping (lost runners, runtime limits, overdue stops,
 * cost ledger), (2) load a
 * snapshot, (3) decide, purely, (4) apply with guarded writes. Each database phase is its own transaction, and
 * every write transaction first locks the lease row, so a replica that lost the lease writes nothing.
 */
@ApplicationScoped
public class LeaderCycle {
    private static final Logger LOG = Logger.getLogger(LeaderCycle.class);
    private final AgroalDataSource dataSource;
    private final LeaderLease lease;
    private final TrainyardConfig config;
    private final InstantSource clock;
    private final CheckpointFiles files;
    private final JobSignals signals;
    private final Scheduler scheduler = new Scheduler();
    /** Queued jobs' parsed stage plans, kept between cycles so an unchanged job's spec is parsed once. */
    private final StagePlanCache stagePlans = new StagePlanCache();

    private volatile Instant servingSince;

    public LeaderCycle(
            AgroalDataSource dataSource,
            LeaderLease lease,
            TrainyardConfig config,
            InstantSource clock,
            CheckpointFiles files,
            JobSignals signals) {
        this.files = files;
        this.signals = signals;
        this.dataSource = dataSource;
        this.lease = lease;
        this.config = config;
        this.clock = clock;
    }

    /** What a cycle did; {@code leader} false means another replica holds the lease and nothing was done. */
    public record Report(
            boolean leader,
            int queued,
            int placed,
            int skipped,
            int stopsRequested,
            int lostRunners,
            int endedAttempts,
            long decideNanos) {
        static Report notLeader() {
            return new Report(false, 0, 0, 0, 0, 0, 0, 0);
        }
    }

    public Report runOnce() {
        Instant now = clock.instant();
        if (!lease.acquire(now, config.scheduler().leaseDuration())) {
            return Report.notLeader();
        }
        RunnerRescuer.Rescued rescued = inTransaction(() -> housekeeping(now));
        if (rescued == null) {
            return Report.notLeader();
        }
        if (!rescued.lostNames().isEmpty()) {
            LOG.warnf(
                    "Runners silent for %.1f s declared LOST: %s (%d attempts ended)",
                    config.runners().heartbeatTimeout().toMillis() / 1e3, rescued.lostNames(), rescued.endedAttempts());
        }
        if (rescued.runtimeStops() > 0) {
            LOG.infof("Asked %d attempt(s) at their runtime limit to checkpoint and stop", rescued.runtimeStops());
        }
        if (rescued.endedAttempts() > 0 || rescued.runtimeStops() > 0) {
            signals.changed(JobsChanged.everything());
        }
        SnapshotLoader.Loaded loaded = inTransaction(() -> load(now));
        long t0 = System.nanoTime();
        SchedulerPolicy policy = policy();
        Decision decision = scheduler.decide(loaded.snapshot(), policy);
        long decideNanos = System.nanoTime() - t0;
        DecisionApplier.Applied applied = inTransaction(() -> apply(decision, loaded, now));
        if (applied == null) {
            return Report.notLeader();
        }
        signals.changed(changeOf(decision, applied, policy));
        return new Report(
                true,
                loaded.snapshot().queue().size(),
                applied.placed(),
                applied.skipped(),
                applied.stopsRequested(),
                rescued.lostRunners(),
                rescued.endedAttempts(),
                decideNanos);
    }

    /**
     * Whom a committed decision concerns: the runners it placed work on (all runners when it also asked attempts
     * to stop), and the scheduler itself again when it left work undone (rows that changed under it, or the
     * placement cap reached).
     */
    static JobsChanged changeOf(Decision decision, DecisionApplier.Applied applied, SchedulerPolicy policy) {
        int cap = policy.maxPlacementsPerCycle();
        boolean again =
                applied.skipped() > 0 || cap > 0 && decision.placements().size() >= cap;
        if (applied.stopsRequested() > 0) {
            return new JobsChanged(again, true, Set.of());
        }
        Set<Long> runners = new HashSet<>();
        if (applied.placed() > 0) {
            decision.placements().forEach(p -> p.nodes().forEach(n -> runners.add(n.runnerId())));
        }
        return new JobsChanged(again, false, runners);
    }

    /** Work of one transaction, over a connection enlisted in it. */
    @FunctionalInterface
    interface TransactionWork<T> {
        T run() throws SQLException;
    }

    private static <T> T inTransaction(TransactionWork<T> work) {
        return QuarkusTransaction.requiringNew().call(work::run);
    }

    /**
     * Runners can only reach this replica once its HTTP server listens; silence before that (a slow start, a
     * restart of the API) must not count against them.
     */
    void onHttpStart(@jakarta.enterprise.event.ObservesAsync io.quarkus.vertx.http.HttpServerStart event) {
        servingSince = clock.instant();
    }

    /**
     * The later of the leadership and serving instants: {@code fallback} while not leader, the leadership
     * instant while the (asynchronous) server-start event has not arrived.
     */
    static Instant latest(Instant leaderSince, Instant serving, Instant fallback) {
        if (leaderSince == null) {
            return fallback;
        }
        if (serving == null) {
            return leaderSince;
        }
        return leaderSince.isAfter(serving) ? leaderSince : serving;
    }

    SchedulerPolicy policy() {
        return SchedulerPolicy.defaults()
                .withMinRuntimeBeforePreemption(config.scheduler().minRuntimeBeforePreemption())
                .withPreemptionGrace(config.scheduler().preemptionGrace());
    }

    RunnerRescuer.Rescued housekeeping(Instant now) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            if (!LeaderLease.holdWithin(c, lease.holder(), now)) {
                return null;
            }
            Instant since = latest(lease.leaderSince(), servingSince, now);
            RunnerRescuer.Rescued rescued = RunnerRescuer.run(
                    c,
                    now,
                    since,
                    config.runners().heartbeatTimeout(),
                    config.scheduler().preemptionGrace());
            CostAccountant.accrueAll(c, now, config.scheduler().costInterval());
            sweepDeletedCheckpoints(c);
            return rescued;
        }
    }

    SnapshotLoader.Loaded load(Instant now) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.execute("set transaction isolation level repeatable read, read only");
            }
            return SnapshotLoader.load(
                    c, now, config.runners().heartbeatTimeout().dividedBy(2), stagePlans);
        }
    }

    DecisionApplier.Applied apply(Decision decision, SnapshotLoader.Loaded loaded, Instant now) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return applyAsLeader(c, lease.holder(), decision, loaded, now);
        }
    }

    /**
     * Inside a transaction on {@code c}: writes the decision only if {@code holder} still holds the lease (and
     * keeps it locked until the transaction ends); null, with nothing written, when it does not.
     */
    static DecisionApplier.Applied applyAsLeader(
            Connection c, String holder, Decision decision, SnapshotLoader.Loaded loaded, Instant now)
            throws SQLException {
        if (!LeaderLease.holdWithin(c, holder, now)) {
            return null;
        }
        return DecisionApplier.apply(c, decision, loaded.storedPending(), now, UUID::randomUUID);
    }

    /** Removes files of checkpoints marked DELETED, then their rows: a crash in between leaves no leak. */
    private void sweepDeletedCheckpoints(Connection c) throws SQLException {
        for (CheckpointIndex.Row row : CheckpointIndex.deleted(c, 100)) {
            if (files.delete(row.path())) {
                CheckpointIndex.forget(c, row.view().id());
            }
        }
    }
}
