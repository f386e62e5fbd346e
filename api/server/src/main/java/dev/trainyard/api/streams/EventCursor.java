package dev.trainyard.api.streams;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a platform stream stands in {@code job_events}. Event ids come from a sequence, so a transaction that
 * took a lower id can commit after a higher one was already read: "everything above the highest id seen" would
 * skip it for good. The cursor therefore looks back over a window of recent ids and remembers which of them it
 * has already seen.
 *
 * <p>The cursor is also the platform stream's SSE event id, {@code P<highest>.<seen>}: {@code seen} is a bitmap
 * (base64url, bit {@code i} for id {@code highest - 1 - i}) of the window below {@code highest}, so a resumed
 * stream still picks up the late commits its client had not heard of.
 */
final class EventCursor {
    /** How far below the highest id seen a late commit is still picked up. */
    static final long LOOKBACK = 256;

    private static final Pattern ID = Pattern.compile("P(\\d{1,18})\\.([A-Za-z0-9_-]{43})");
    private static final int BITMAP_BYTES = (int) (LOOKBACK / 8);

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

    /** Reads a platform stream's event id; empty when it is not one. */
    static Optional<EventCursor> parse(String id) {
        Matcher m = ID.matcher(id);
        if (!m.matches()) {
            return Optional.empty();
        }
        long highest = Long.parseLong(m.group(1));
        byte[] bitmap = Base64.getUrlDecoder().decode(m.group(2));
        List<Long> seen = new ArrayList<>(List.of(highest));
        for (int i = 0; i < LOOKBACK; i++) {
            if ((bitmap[i / 8] & (1 << (i % 8))) != 0) {
                seen.add(highest - 1 - i);
            }
        }
        return Optional.of(new EventCursor(highest, seen));
    }

    /** The highest id seen: everything at or below it, outside the window, counts as seen. */
    long highest() {
        return highest;
    }

    /** This cursor as an SSE event id. */
    String id() {
        byte[] bitmap = new byte[BITMAP_BYTES];
        for (long id : seen) {
            long i = highest - 1 - id;
            if (i >= 0 && i < LOOKBACK && id > readFrom()) {
                bitmap[(int) (i / 8)] |= (byte) (1 << (i % 8));
            }
        }
        return "P" + highest + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(bitmap);
    }

    /** Whether {@code id} would be new to {@link #take}, without marking it. */
    boolean isNew(long id) {
        return id > readFrom() && !seen.contains(id);
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
