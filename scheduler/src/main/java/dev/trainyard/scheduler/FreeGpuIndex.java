package dev.trainyard.scheduler;

import java.util.BitSet;
import java.util.function.IntPredicate;

/**
 * Runners of one pool bucketed by their free GPU count, so best fit is a walk over a few buckets instead of a scan
 * of every runner; within a bucket runners come in position order, which is id order.
 */
final class FreeGpuIndex {
    private final BitSet[] byFree;
    private int totalFree;

    FreeGpuIndex(int[] free, int largestRunner) {
        byFree = new BitSet[largestRunner + 1];
        for (int f = 0; f <= largestRunner; f++) {
            byFree[f] = new BitSet();
        }
        for (int pos = 0; pos < free.length; pos++) {
            byFree[free[pos]].set(pos);
            totalFree += free[pos];
        }
    }

    void move(int pos, int oldFree, int newFree) {
        byFree[oldFree].clear(pos);
        byFree[newFree].set(pos);
        totalFree += newFree - oldFree;
    }

    int totalFree() {
        return totalFree;
    }

    int largestFree() {
        for (int f = byFree.length - 1; f > 0; f--) {
            if (!byFree[f].isEmpty()) {
                return f;
            }
        }
        return 0;
    }

    /** The accepted runner with the fewest free GPUs that are at least {@code need}, ties by position; or -1. */
    int bestFit(int need, IntPredicate accept) {
        for (int f = Math.max(need, 1); f < byFree.length; f++) {
            BitSet bucket = byFree[f];
            for (int pos = bucket.nextSetBit(0); pos >= 0; pos = bucket.nextSetBit(pos + 1)) {
                if (accept.test(pos)) {
                    return pos;
                }
            }
        }
        return -1;
    }
}
