package dev.trainyard.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Turns the jobs left waiting into the decision's entries: queue position per home pool and a start estimate. */
final class WaitingReport {
    private final ClusterIndex index;

    WaitingReport(ClusterIndex index) {
        this.index = index;
    }

    List<WaitingJob> build(List<Pending> pending) {
        List<WaitingJob> waiting = new ArrayList<>(pending.size());
        for (Pending entry : pending) {
            // Each waiting job lengthens the queue of every pool it matches; its position is counted in its home pool.
            for (PoolState pool : entry.matching) {
                pool.queueLength++;
            }
            int position = entry.matching.isEmpty() ? 0 : entry.matching.get(0).queueLength;
            waiting.add(new WaitingJob(
                    entry.job.id(), entry.reason, entry.message, position, estimate(entry), entry.aheadJobId));
        }
        return waiting;
    }

    /**
     * The recorded estimate, else the earliest moment running attempts' deadlines free enough GPUs: for a pipeline
     * that may be cut between runners, enough GPUs on runners whose devices hold its stages ({@link GangFit}, as
     * placement lays it out), since free GPUs on runners too small for a stage never start it.
     */
    private Instant estimate(Pending entry) {
        if (entry.estimate != null || !entry.wantsGpus() || entry.reason == PendingReason.WAITING_FOR_PREEMPTION) {
            return entry.estimate;
        }
        Instant earliest = null;
        for (PoolState pool : entry.feasible) {
            ReleaseTimeline timeline = index.timeline(pool);
            Instant start;
            if (entry.job.pipeline() != null) {
                ReleaseTimeline.Projection fit = timeline.earliestFit(entry.job);
                start = fit == null ? null : fit.at();
            } else {
                start = timeline.earliestStart(entry.job.minGpus(), entry.job.multiNode());
            }
            if (start != null && (earliest == null || start.isBefore(earliest))) {
                earliest = start;
            }
        }
        return earliest;
    }
}
