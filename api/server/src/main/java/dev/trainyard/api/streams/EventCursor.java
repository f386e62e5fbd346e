package dev.trainyard.api.streams;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a platform stream stands in {@code job_events}. Event ids come from a sequence, so a transaction that
 * took a lower id can commit after a higher one was already read: "everything above the highest id seen" would
 * skip it for good. The cursor therefore looks back over a window of recent ids and remembers which of them it
 * has already seen.
 */
final class EventCursor {
    /** How far below the highest id seen a late commit is still picked up. */
    static final long LOOKBACK = 256;

    private long highest;
    private final Set<Long> seen = new HashSet<>();

    /** A cursor that treats {@code seenIds} and everything at or below {@code highest} as already seen. */
    EventCursor(long highest, List<Long> seenIds) {
        this.highest = highest;
        seen.addAll(seenIds);
    }

    /** The lowest id the next read must consider: ids above it that were not seen yet are new. */
    long readFrom() {
        return Math.max(0, highest - LOOKBACK);
    }

    /** Whether {@code id} (from a read starting at {@link #readFrom()}) is new; marks it seen. */
    boolean take(long id) {
        if (id <= readFrom() || !seen.add(id)) {
            return false;
        }
        highest = Math.max(highest, id);
        return true;
    }

    /** Forgets ids that fell out of the window, so the set stays small. */
    void trim() {
        long from = readFrom();
        seen.removeIf(id -> id <= from);
    }
}
