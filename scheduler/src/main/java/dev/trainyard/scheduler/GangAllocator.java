package dev.trainyard.scheduler;

import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * All-or-nothing placement of a gang: one runner by best fit when possible, otherwise (multi-node jobs only) as
 * few runners as possible, largest headroom first, with the last piece again by best fit. Each multi-node piece is
 * a whole number of {@code unit}-GPU data-parallel replicas, since one replica's pipeline cannot span runners.
 */
final class GangAllocator {
    private GangAllocator() {}

    /**
     * The largest gang in [min, upper] GPUs that fits the headroom now, or null. Its size is a whole number of
     * {@code unit}-GPU replicas, so that an elastic data-parallel job starts with whole replicas.
     */
    static Gang placeNow(PoolState pool, Headroom room, int upper, int min, boolean multiNode, int unit) {
        int step = Math.max(1, unit);
        if (multiNode) {
            IntUnaryOperator whole = whole(room::at, step);
            int size = roundDown(Math.min(upper, step <= 1 ? room.total() : total(pool, whole)), step);
            if (size < min || size <= 0) {
                return null;
            }
            int pos = pool.index.bestFit(size, p -> room.at(p) >= size);
            return pos >= 0 ? Gang.single(pos, size) : spread(pool.free.length, whole, size);
        }
        for (int size = roundDown(Math.min(upper, pool.index.largestFree()), step);
                size >= min && size > 0;
                size -= step) {
            int need = size;
            int pos = pool.index.bestFit(need, p -> room.at(p) >= need);
            if (pos >= 0) {
                return Gang.single(pos, need);
            }
        }
        return null;
    }

    private static int roundDown(int gpus, int unit) {
        return gpus - gpus % unit;
    }

    /** The GPUs of every runner of the pool as {@code room} counts them. */
    private static int total(PoolState pool, IntUnaryOperator room) {
        int sum = 0;
        for (int pos = 0; pos < pool.free.length; pos++) {
            sum += room.applyAsInt(pos);
        }
        return sum;
    }

    /** Placement of exactly {@code size} GPUs over plain per-runner counts (used for projected futures). */
    static Gang placeOn(int[] available, int size, boolean multiNode, int unit) {
        int best = -1;
        for (int pos = 0; pos < available.length; pos++) {
            if (available[pos] >= size && (best < 0 || available[pos] < available[best])) {
                best = pos;
            }
        }
        if (best >= 0) {
            return Gang.single(best, size);
        }
        if (!multiNode || Arrays.stream(available).sum() < size) {
            return null;
        }
        return spread(available.length, whole(pos -> available[pos], unit), size);
    }

    /** Room counted in whole replicas of {@code unit} GPUs. */
    private static IntUnaryOperator whole(IntUnaryOperator room, int unit) {
        return unit <= 1
                ? room
                : pos -> {
                    int gpus = room.applyAsInt(pos);
                    return gpus - gpus % unit;
                };
    }

    /** Spreads {@code size} GPUs, which the caller knows fit in total, over the fewest runners. */
    private static Gang spread(int runners, IntUnaryOperator room, int size) {
        long[] keyed = new long[runners];
        int n = 0;
        for (int pos = 0; pos < runners; pos++) {
            int gpus = room.applyAsInt(pos);
            if (gpus > 0) {
                // Largest room first, then lowest position: encode both in one sortable long.
                keyed[n++] = ((long) (Integer.MAX_VALUE - gpus) << 32) | pos;
            }
        }
        long[] order = Arrays.copyOf(keyed, n);
        Arrays.sort(order);
        int[] positions = new int[n];
        int[] gpus = new int[n];
        int used = 0;
        int remaining = size;
        for (int i = 0; i < n && remaining > 0; i++) {
            int last = lastFitting(order, i, room, remaining);
            int pos = last >= 0 ? (int) order[last] : (int) order[i];
            int take = Math.min(remaining, room.applyAsInt(pos));
            positions[used] = pos;
            gpus[used++] = take;
            remaining -= take;
        }
        return remaining > 0 ? null : new Gang(Arrays.copyOf(positions, used), Arrays.copyOf(gpus, used), size);
    }

    /** Index in {@code order[from..]} of the tightest runner that holds all of {@code remaining}, or -1. */
    private static int lastFitting(long[] order, int from, IntUnaryOperator room, int remaining) {
        int found = -1;
        for (int i = from; i < order.length; i++) {
            int gpus = room.applyAsInt((int) order[i]);
            if (gpus < remaining) {
                break;
            }
            // Equal room keeps the earlier (lower) position, so ties go to the lowest runner id.
            if (found < 0 || gpus < room.applyAsInt((int) order[found])) {
                found = i;
            }
        }
        return found;
    }
}
