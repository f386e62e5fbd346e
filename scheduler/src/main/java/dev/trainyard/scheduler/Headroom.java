package dev.trainyard.scheduler;

/** The GPUs a particular job may take on each runner of a pool now: free GPUs, less any held by a reservation. */
final class Headroom {
    private final PoolState pool;
    private final Reservation limits;

    /** {@code limits} is null when the job may use every free GPU. */
    Headroom(PoolState pool, Reservation limits) {
        this.pool = pool;
        this.limits = limits;
    }

    int at(int pos) {
        int free = pool.free[pos];
        return limits == null ? free : Math.min(free, Math.max(0, limits.spareAt(pos)));
    }

    int total() {
        int free = pool.index.totalFree();
        return limits == null ? free : free - limits.heldGpus(pool.free);
    }

    boolean limited() {
        return limits != null;
    }
}
