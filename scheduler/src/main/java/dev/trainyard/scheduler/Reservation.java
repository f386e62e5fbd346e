package dev.trainyard.scheduler;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * GPUs held for the blocked head job of a pool: the runners it will start on at {@code start} and how many GPUs
 * on each of them it leaves spare, which is all a backfilled job running past {@code start} may use there.
 */
final class Reservation {
    final long holderJobId;
    final Priority holderPriority;
    final Instant start;
    private final Map<Integer, Integer> spareByPosition = new HashMap<>();

    Reservation(long holderJobId, Priority holderPriority, Instant start, Gang gang, int[] projectedFree) {
        this.holderJobId = holderJobId;
        this.holderPriority = holderPriority;
        this.start = start;
        for (int i = 0; i < gang.positions().length; i++) {
            int pos = gang.positions()[i];
            spareByPosition.put(pos, projectedFree[pos] - gang.gpus()[i]);
        }
    }

    /** GPUs on the runner a long-running job may take without delaying the holder. */
    int spareAt(int pos) {
        Integer spare = spareByPosition.get(pos);
        return spare == null ? Integer.MAX_VALUE : spare;
    }

    /** Free GPUs that long-running jobs may not touch because the holder needs them. */
    int heldGpus(int[] free) {
        int held = 0;
        for (Map.Entry<Integer, Integer> entry : spareByPosition.entrySet()) {
            held += Math.max(0, free[entry.getKey()] - entry.getValue());
        }
        return held;
    }

    /** A long-running job took GPUs: it outlives {@code start}, so they come out of the spare. */
    void consume(Gang gang) {
        for (int i = 0; i < gang.positions().length; i++) {
            int taken = gang.gpus()[i];
            spareByPosition.computeIfPresent(gang.positions()[i], (pos, spare) -> spare - taken);
        }
    }
}
