package dev.trainyard.scheduler;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.IntUnaryOperator;

/**
 * All-or-nothing placement of a pipeline cut between stages, in one or more data-parallel replicas. One replica's
 * cut goes stage by stage: each next runner is the one that holds the most of the stages still unplaced (by its GPUs
 * and by the memory its devices report), ties to the tightest fit, then the lowest position. Neighbouring stages so
 * stay together and the gang uses few runners; a runner that holds every stage takes the whole pipeline, as the best
 * fit of a job on one runner would. A stage is a tensor-parallel group of t GPUs that is never split between runners:
 * node rank r of the gang holds the stages right after rank r - 1's, t GPUs each, and a runner's GPUs beyond a
 * multiple of t stay free.
 */
final class PipelineAllocator {
    private PipelineAllocator() {}

    /**
     * The gang over the GPUs {@code room} counts per runner position, or null when none fits. A job of several
     * replicas first goes on runners holding whole replicas, as it would uncut; only when none hold them all is
     * every replica cut, each over its own runners and all the same way, ranks ordered replica by replica
     * ({@code q = replica · P + pipelineRank}, the engine's process numbering).
     */
    static Gang place(PoolState pool, IntUnaryOperator room, PipelineStages stages) {
        if (stages.replicas() > 1) {
            Gang whole = wholeReplicas(pool, room, stages);
            if (whole != null) {
                return whole;
            }
        }
        boolean[] used = new boolean[pool.free.length];
        Gang first = cutOne(pool, room, stages, used);
        if (first == null) {
            return null;
        }
        int[] firstShape = Arrays.stream(first.gpus())
                .map(g -> g / stages.tensorParallel())
                .toArray();
        Gang all = cutEveryReplica(pool, room, stages, firstShape, first.positions(), used);
        if (all != null || stages.replicas() == 1) {
            return all;
        }
        // The greedy cut of replica 0 may have taken the one runner a later replica needed (a two-device runner
        // holding replica 0 whole while the others hold one stage each): then try one stage per rank, which any
        // runner with a free device and the memory for that stage can take.
        int[] oneStageEach = new int[stages.count()];
        Arrays.fill(oneStageEach, 1);
        return cutEveryReplica(pool, room, stages, oneStageEach, null, new boolean[pool.free.length]);
    }

    /**
     * The gang of the most replicas, from {@code most} down to {@code fewest.replicas()}, that fits: an elastic cut
     * job starts on as many whole cut replicas as the runners hold now. Null when not even the fewest fit.
     */
    static Gang placeMost(PoolState pool, IntUnaryOperator room, PipelineStages fewest, int most) {
        for (int replicas = most; replicas >= fewest.replicas(); replicas--) {
            Gang gang = place(pool, room, fewest.withReplicas(replicas));
            if (gang != null) {
                return gang;
            }
        }
        return null;
    }

    /**
     * Every replica cut as {@code shape} says (stages per rank), each rank on an unused runner of tightest room that
     * holds its stages; replica 0 already placed at {@code firstPositions} when that is not null. Null when a rank
     * finds no runner.
     */
    private static Gang cutEveryReplica(
            PoolState pool,
            IntUnaryOperator room,
            PipelineStages stages,
            int[] shape,
            int[] firstPositions,
            boolean[] used) {
        int ranks = shape.length;
        int[] positions = new int[ranks * stages.replicas()];
        int[] gpus = new int[ranks * stages.replicas()];
        int from = 0;
        if (firstPositions != null) {
            System.arraycopy(firstPositions, 0, positions, 0, ranks);
            for (int rank = 0; rank < ranks; rank++) {
                gpus[rank] = shape[rank] * stages.tensorParallel();
            }
            from = 1;
        }
        for (int replica = from; replica < stages.replicas(); replica++) {
            for (int rank = 0, firstStage = 0; rank < ranks; firstStage += shape[rank++]) {
                int pos = tightestHolding(pool, room, stages, firstStage, shape[rank], used);
                if (pos < 0) {
                    return null;
                }
                used[pos] = true;
                positions[replica * ranks + rank] = pos;
                gpus[replica * ranks + rank] = shape[rank] * stages.tensorParallel();
            }
        }
        return new Gang(positions, gpus, stages.gpus());
    }

    /** The unused runner of tightest room that holds exactly stages [first, first + count), or -1. */
    private static int tightestHolding(
            PoolState pool, IntUnaryOperator room, PipelineStages stages, int first, int count, boolean[] used) {
        int best = -1;
        for (int pos = 0; pos < pool.free.length; pos++) {
            int gpusThere = room.applyAsInt(pos);
            if (!used[pos]
                    && pool.memory[pos].stagesHeld(stages, first, Math.min(count, stages.stagesOn(gpusThere))) == count
                    && (best < 0 || gpusThere < room.applyAsInt(best))) {
                best = pos;
            }
        }
        return best;
    }

    /** Whole replicas per runner, within its GPUs and the memory its devices report; null when they do not fit. */
    private static Gang wholeReplicas(PoolState pool, IntUnaryOperator room, PipelineStages stages) {
        int[] available = new int[pool.free.length];
        for (int pos = 0; pos < available.length; pos++) {
            available[pos] = pool.memory[pos].replicasHeld(stages, room.applyAsInt(pos)) * stages.replicaGpus();
        }
        return GangAllocator.placeOn(available, stages.gpus(), true, stages.replicaGpus());
    }

    /** One replica's cut, in stage order, over runners not yet {@code used} (marked used now); null when none fits. */
    private static Gang cutOne(PoolState pool, IntUnaryOperator room, PipelineStages stages, boolean[] used) {
        int runners = pool.free.length;
        int[] positions = new int[stages.count()];
        int[] gpus = new int[stages.count()];
        int ranks = 0;
        for (int first = 0; first < stages.count(); ) {
            int best = -1;
            int bestHeld = 0;
            for (int pos = 0; pos < runners; pos++) {
                int gpusThere = room.applyAsInt(pos);
                int held = used[pos] ? 0 : pool.memory[pos].stagesHeld(stages, first, stages.stagesOn(gpusThere));
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
            gpus[ranks++] = bestHeld * stages.tensorParallel();
            first += bestHeld;
        }
        return new Gang(Arrays.copyOf(positions, ranks), Arrays.copyOf(gpus, ranks), stages.replicaGpus());
    }

    /** Whether an empty pool, all its GPUs free, could hold the pipeline. */
    static boolean couldEverHold(PoolState pool, PipelineStages stages) {
        return place(pool, pos -> pool.capacity[pos], stages) != null;
    }

    /**
     * Why an empty pool cannot hold the pipeline: too few GPUs, no runner with a stage's t GPUs, a stage no runner's
     * devices hold, or runners that together hold too few whole stages.
     */
    static String whyNot(PoolState pool, PipelineStages stages) {
        int t = stages.tensorParallel();
        String each = t == 1 ? "one each" : "a tensor-parallel group of " + t + " GPUs each, each group on one runner";
        if (pool.totalCapacity < stages.gpus()) {
            String layout = stages.replicas() == 1 ? "" : " x " + stages.replicas() + " replicas";
            return "its " + stages.count() + " pipeline stages" + layout + " need " + stages.gpus() + " GPUs, " + each
                    + "; pool " + pool.pool.name() + " has " + pool.totalCapacity + " on schedulable runners";
        }
        if (pool.largestRunner < t) {
            return "its pipeline stages are tensor-parallel groups of " + t + " GPUs, each on one runner; the largest"
                    + " schedulable runner in pool " + pool.pool.name() + " has " + pool.largestRunner;
        }
        for (int stage = 0; stage < stages.count(); stage++) {
            if (!anyRunnerHolds(pool, stages, stage)) {
                String need = t == 1
                        ? " of device memory; no schedulable runner of pool " + pool.pool.name() + " has a device"
                                + " that holds it (the largest has "
                        : " on each of the " + t + " GPUs of its tensor-parallel group; no schedulable runner of pool "
                                + pool.pool.name() + " has " + t + " devices that hold it (the largest device has ";
                return "pipeline stage " + stage + " needs " + mib(stages.bytes(stage)) + need
                        + mib(largestDevice(pool)) + ")";
            }
        }
        String whole = t == 1
                ? "runners whose devices share memory hold fewer stages than GPUs"
                : "a runner holds only whole " + t + "-GPU stage groups (GPUs beyond a multiple of " + t
                        + " stay unused), and runners whose devices share memory hold fewer";
        return stages.replicas() == 1
                ? "the " + stages.count() + " pipeline stages fit no set of schedulable runners of pool "
                        + pool.pool.name() + " together: " + whole
                : "the " + stages.replicas() + " replicas of " + stages.count() + " pipeline stages fit no set of"
                        + " schedulable runners of pool " + pool.pool.name() + ": each replica's cut needs runners of"
                        + " its own, all cut the same way, within their devices' memory"
                        + (t == 1 ? "" : "; " + whole);
    }

    private static boolean anyRunnerHolds(PoolState pool, PipelineStages stages, int stage) {
        for (int pos = 0; pos < pool.capacity.length; pos++) {
            if (pool.memory[pos].stagesHeld(stages, stage, Math.min(1, stages.stagesOn(pool.capacity[pos]))) == 1) {
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
