package dev.trainyard.api.scheduling;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.lifecycle.AttemptTransitions;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.api.lifecycle.JobTransitions;
import dev.trainyard.api.lifecycle.RunnerState;
import dev.trainyard.api.lifecycle.StopReason;
import dev.trainyard.scheduler.BudgetStop;
import dev.trainyard.scheduler.Decision;
import dev.trainyard.scheduler.NodeAssignment;
import dev.trainyard.scheduler.Placement;
import dev.trainyard.scheduler.Preemption;
import dev.trainyard.scheduler.Resize;
import dev.trainyard.scheduler.WaitingJob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Writes a decision with guarded updates: a job is placed only if it is still QUEUED at the version the
 * snapshot saw and its runners are all still ACTIVE, a stop is asked only of an attempt still live. A row
 * that changed meanwhile is skipped and considered again next cycle, never overwritten.
 */
public final class DecisionApplier {

    private DecisionApplier() {}

    /** What was written. */
    public record Applied(int placed, int skipped, int stopsRequested, int pendingUpdated) {}

    public static Applied apply(
            Connection c,
            Decision decision,
            Map<Long, SnapshotLoader.StoredPending> stored,
            Instant now,
            Supplier<UUID> leaseTokens)
            throws SQLException {
        int placed = 0;
        int skipped = 0;
        Set<Long> active = activeRunners(c, decision);
        for (Placement p : decision.placements()) {
            boolean runnersActive = p.nodes().stream().allMatch(n -> active.contains(n.runnerId()));
            if (runnersActive && JobTransitions.place(c, p, leaseTokens.get(), now)) {
                placed++;
            } else {
                skipped++;
            }
        }
        int stops = 0;
        for (Preemption p : decision.preemptions()) {
            stops += requestStop(
                    c,
                    p.attemptId(),
                    p.jobId(),
                    StopReason.PREEMPT,
                    "Asked to checkpoint and stop for job " + p.forJobId() + " (" + p.reason() + ")",
                    now);
        }
        for (Resize r : decision.resizes()) {
            // growth happens at a checkpoint: the attempt checkpoints and stops, and the job is placed again
            // at once with the GPUs that are idle now (the scheduler grows only when nobody else waits for them)
            stops += requestStop(
                    c,
                    r.attemptId(),
                    r.jobId(),
                    StopReason.GROW,
                    "Asked to checkpoint and restart on " + r.gpus() + " GPUs instead of " + r.fromGpus(),
                    now);
        }
        for (BudgetStop b : decision.budgetStops()) {
            stops += requestStop(
                    c, b.attemptId(), b.jobId(), StopReason.BUDGET, "Asked to checkpoint and stop: " + b.reason(), now);
        }
        int pending = writePending(c, decision, stored);
        return new Applied(placed, skipped, stops, pending);
    }

    /**
     * The runners of the decision's placements that are still ACTIVE (an admin may have drained one since the
     * snapshot), in one statement. Their rows stay share-locked until this transaction ends, so a drain waits
     * for the placements and then applies to runners whose work is already recorded, as a drain should.
     */
    private static Set<Long> activeRunners(Connection c, Decision decision) throws SQLException {
        Long[] ids = decision.placements().stream()
                .flatMap(p -> p.nodes().stream())
                .map(NodeAssignment::runnerId)
                .distinct()
                .toArray(Long[]::new);
        if (ids.length == 0) {
            return Set.of();
        }
        return new HashSet<>(Jdbc.query(
                c,
                "select id from runners where id = any(?) and state = ? for share",
                rs -> rs.getLong(1),
                c.createArrayOf("bigint", ids),
                RunnerState.ACTIVE.word()));
    }

    private static int requestStop(
            Connection c, long attemptId, long jobId, StopReason reason, String message, Instant now)
            throws SQLException {
        return AttemptTransitions.requestStop(c, attemptId, jobId, reason, message, now) ? 1 : 0;
    }

    /** Stores why each waiting job waits; rows whose reason, position and estimate did not change are left alone. */
    private static int writePending(Connection c, Decision decision, Map<Long, SnapshotLoader.StoredPending> stored)
            throws SQLException {
        int count = 0;
        try (PreparedStatement ps = c.prepareStatement("""
                update jobs set pending_reason = ?, pending_message = ?, queue_position = ?, estimated_start_at = ?
                 where id = ? and state = ?""")) {
            for (WaitingJob w : decision.waiting()) {
                Integer position = w.queuePosition() > 0 ? w.queuePosition() : null;
                SnapshotLoader.StoredPending now =
                        new SnapshotLoader.StoredPending(w.reason().name(), w.message(), position, w.estimatedStart());
                if (sameAs(stored.get(w.jobId()), now)) {
                    continue;
                }
                ps.setString(1, now.reason());
                ps.setString(2, now.message());
                if (position == null) {
                    ps.setNull(3, Types.INTEGER);
                } else {
                    ps.setInt(3, position);
                }
                ps.setTimestamp(4, w.estimatedStart() == null ? null : Timestamp.from(w.estimatedStart()));
                ps.setLong(5, w.jobId());
                ps.setString(6, JobState.QUEUED.word());
                ps.addBatch();
                count++;
            }
            if (count > 0) {
                ps.executeBatch();
            }
        }
        return count;
    }

    private static boolean sameAs(SnapshotLoader.StoredPending a, SnapshotLoader.StoredPending b) {
        return a != null
                && Objects.equals(a.reason(), b.reason())
                && Objects.equals(a.message(), b.message())
                && Objects.equals(a.position(), b.position())
                && Objects.equals(
                        a.estimate() == null ? null : a.estimate().getEpochSecond(),
                        b.estimate() == null ? null : b.estimate().getEpochSecond());
    }
}
