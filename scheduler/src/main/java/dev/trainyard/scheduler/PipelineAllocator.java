package dev.trainyard.scheduler;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.IntUnaryOperator;

/**
 * All-or-nothing placement of one replica's pipeline cut between stages: stage by stage, each next runner is the
 * one that holds the most of the stages still unplaced (by its GPUs and by the memory its devices report), ties to
 * the tightest fit, then the lowest position. Neighbouring stages so stay together and the gang uses few runners;
 * a runner that holds every stage takes the whole pipeline, as the best fit of a job on one runner would. Node
 * rank r of the gang holds the stages right after rank r - 1's, one per GPU.
 */
final class PipelineAllocator {
    private PipelineAllocator() {}

    /** The gang, in stage order, over the GPUs {@code room} counts per runner position; null when none fits. */
    static Gang place(PoolState pool, IntUnaryOperator room, PipelineStages stages) {
        int runners = pool.free.length;
        boolean[] used = new boolean[runners];
        int[] positions = new int[stages.count()];
        int[] gpus = new int[stages.count()];
        int ranks = 0;
        for (int first = 0; first < stages.count(); ) {
            int best = -1;
            int bestHeld = 0;
            for (int pos = 0; pos < runners; pos++) {
                int gpusThere = room.applyAsInt(pos);
                int held = used[pos] ? 0 : pool.memory[pos].stagesHeld(stages, first, gpusThere);
                if (held > bestHeld || (held == bestHeld && held > 0 && gpusThere < room.applyAsInt(best))) {
                    best = pos;
                    bestHeld = held;
                }
            }
            if (best < 0) {
                return null;
            }
            used[best] = true;
            positions[ranks] = best;
            gpus[ranks++] = bestHeld;
            first += bestHeld;
        }
        return new Gang(Arrays.copyOf(positions, ranks), Arrays.copyOf(gpus, ranks), stages.count());
    }

    /** Whether an empty pool, all its GPUs free, could hold the pipeline. */
    static boolean couldEverHold(PoolState pool, PipelineStages stages) {
        return place(pool, pos -> pool.capacity[pos], stages) != null;
    }

    /** Why an empty pool cannot hold the pipeline: too few GPUs, or a stage no runner's devices hold. */
    static String whyNot(PoolState pool, PipelineStages stages) {
        if (pool.totalCapacity < stages.count()) {
            return "its " + stages.count() + " pipeline stages need " + stages.count() + " GPUs, one each; pool "
                    + pool.pool.name() + " has " + pool.totalCapacity + " on schedulable runners";
        }
        for (int stage = 0; stage < stages.count(); stage++) {
            if (!anyRunnerHolds(pool, stages, stage)) {
                return "pipeline stage " + stage + " needs " + mib(stages.bytes(stage))
                        + " of device memory; no schedulable runner of pool " + pool.pool.name() + " has a device"
                        + " that holds it (the largest has " + mib(largestDevice(pool)) + ")";
            }
        }
        return "the " + stages.count() + " pipeline stages fit no set of schedulable runners of pool "
                + pool.pool.name() + " together: runners whose devices share memory hold fewer stages than GPUs";
    }

    private static boolean anyRunnerHolds(PoolState pool, PipelineStages stages, int stage) {
        for (int pos = 0; pos < pool.capacity.length; pos++) {
            if (pool.memory[pos].stagesHeld(stages, stage, Math.min(1, pool.capacity[pos])) == 1) {
                return true;
            }
        }
        return false;
    }

    private static long largestDevice(PoolState pool) {
        return Arrays.stream(pool.memory)
                .filter(m -> m.deviceBytes() != null)
                .mapToLong(RunnerMemory::deviceBytes)
                .max()
                .orElse(0);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
}
