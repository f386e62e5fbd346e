package dev.trainyard.api.scheduling;

import dev.trainyard.scheduler.PipelineStages;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The stage plans of queued multi-node jobs, parsed from their specs, kept between the leader's cycles by job id and
 * row version: an unchanged queued job is parsed once, not every cycle, and a row whose version moved (every state
 * change bumps it; the spec itself is written only at submission) is parsed again. Only jobs still queued are kept.
 */
public final class StagePlanCache {
    /** A job's plan at one version; {@code stages} null when its pipeline is never cut between runners. */
    private record Entry(long version, PipelineStages stages) {}

    private final Map<Long, Entry> entries = new HashMap<>();
    private long parses;

    /** Whether the plan of the job at this version is known, so its spec need not be read or parsed. */
    synchronized boolean holds(long jobId, long version) {
        Entry entry = entries.get(jobId);
        return entry != null && entry.version() == version;
    }

    /** The job's plan at this version: the kept one, else {@code parse}'s, which is kept. */
    synchronized PipelineStages plan(long jobId, long version, Supplier<PipelineStages> parse) {
        Entry entry = entries.get(jobId);
        if (entry == null || entry.version() != version) {
            parses++;
            entry = new Entry(version, parse.get());
            entries.put(jobId, entry);
        }
        return entry.stages();
    }

    /** Forgets every job not in {@code queued}, so the cache never outgrows the queue. */
    synchronized void keepOnly(Set<Long> queued) {
        entries.keySet().retainAll(queued);
    }

    /** How many specs were parsed since the cache was made. */
    synchronized long parses() {
        return parses;
    }

    /** How many jobs' plans are kept. */
    synchronized int size() {
        return entries.size();
    }
}
