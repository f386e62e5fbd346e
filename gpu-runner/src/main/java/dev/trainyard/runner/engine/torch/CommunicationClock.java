package dev.trainyard.runner.engine.torch;

/**
 * Wall time each thread spends waiting in collectives, accumulated per thread: a stage thread reads it before and
 * after a section to know how much of the section was communication (a tensor-parallel all-reduce inside a block's
 * forward, ZeRO's all-gather inside the optimizer step). Every collective of {@link ReplicaGroup} and
 * {@link DeviceGroup} goes through {@link #time}. Two {@code System.nanoTime} calls per collective.
 */
final class CommunicationClock {

    private static final ThreadLocal<long[]> NANOS = ThreadLocal.withInitial(() -> new long[1]);

    private CommunicationClock() {}

    /** Runs one collective (start and wait), adding its wall time to this thread's total. */
    static void time(Runnable collective) {
        long start = System.nanoTime();
        try {
            collective.run();
        } finally {
            NANOS.get()[0] += System.nanoTime() - start;
        }
    }

    /** This thread's total so far; only differences between two readings mean anything. */
    static long nanos() {
        return NANOS.get()[0];
    }
}
