package dev.trainyard.spec;

import java.util.Collections;
import java.util.List;

/**
 * How a data-parallel job's replicas sit in processes: {@code processes} processes (one per runner of the gang),
 * the busiest holding {@code localReplicas} replicas. A process holding k replicas trains k replicas' rows of
 * each micro-batch through one replica's pipeline, so its activations grow k-fold, and ZeRO shares the training
 * state between processes, not replicas. An elastic job running on fewer replicas' devices than it asked for
 * has fewer processes holding more replicas each; the global batch and the training math stay the same.
 */
public record ProcessLayout(int processes, int localReplicas) {

    public ProcessLayout {
        if (processes < 1 || localReplicas < 1) {
            throw new IllegalArgumentException(processes + " processes holding " + localReplicas + " replicas");
        }
    }

    /** One data-parallel replica's devices: tensorParallel x stages. */
    public static int replicaDevices(JobSpec spec) {
        return Math.max(1, spec.resources().gpus() / spec.parallelism().dataParallel());
    }

    /**
     * The first of {@code replicas} replicas that the process starting at replica slot {@code slot} of
     * {@code slots} holds: replicas are dealt out to slots (one replica's devices each) as evenly as integers
     * allow, so a piece of s slots holds at most ceil(s x replicas / slots) replicas.
     */
    public static int firstReplica(int slot, int slots, int replicas) {
        return (int) ((long) slot * replicas / slots);
    }

    /**
     * The layout with the most memory per process that a runner of {@code runnerDevices} devices can be given:
     * at the job's minimum ({@code resources.minGpus}), where the fewest processes hold the most replicas, with
     * this runner taking as many replica slots as it has room for and the other runners of the gang no more.
     * A job that is not multi-node runs as one process holding every replica.
     */
    public static ProcessLayout worstOn(JobSpec spec, int runnerDevices) {
        int replicas = spec.parallelism().dataParallel();
        if (replicas <= 1 || !Boolean.TRUE.equals(spec.resources().multiNode())) {
            return new ProcessLayout(1, replicas);
        }
        int unit = replicaDevices(spec);
        int minSlots = Math.max(1, spec.resources().minGpus() / unit);
        int slots = Math.max(1, Math.min(runnerDevices / unit, minSlots));
        return new ProcessLayout(ceilDiv(minSlots, slots), ceilDiv(slots * replicas, minSlots));
    }

    /**
     * Each stage's estimate ({@link MemoryPlan#stage}) for a process of this layout: micro-batches of
     * localReplicas replicas' rows, ZeRO over the processes; empty when only the model file knows the layout or
     * the model has fewer blocks than stages.
     */
    public List<MemoryEstimate> perStage(JobSpec spec, int stages) {
        if (!ModelLayout.known(spec.model())) {
            return List.of();
        }
        ParallelismSpec p = spec.parallelism();
        ModelLayout layout = ModelLayout.of(spec.model(), p.tensorParallelOrDefault());
        if (stages < 1 || stages > layout.blocks().size()) {
            return List.of();
        }
        int rows = Math.max(1, spec.training().batchSize() / p.microBatches() / p.dataParallel() * localReplicas);
        return StagePartitioner.byParameters(layout, stages).stream()
                .map(range -> MemoryPlan.stage(
                        layout,
                        range,
                        MemoryPlan.maxInFlight(p.schedule(), range.stage(), stages, p.microBatches()),
                        p.microBatches(),
                        rows,
                        p.recompute(),
                        p.zeroStage(),
                        processes))
                .toList();
    }

    /**
     * The estimate of every device of one replica's pipeline in this layout, in device order: stage s's
     * tensor-parallel ranks are devices s·t to s·t + t - 1, as the engine places them, each holding its 1/t of the
     * split tensors and the whole replicated ones. Empty as {@link #perStage} is.
     */
    public List<MemoryEstimate> perDevice(JobSpec spec) {
        int t = spec.parallelism().tensorParallelOrDefault();
        return perStage(spec, MemoryPlan.stages(spec)).stream()
                .flatMap(stage -> Collections.nCopies(t, stage).stream())
                .toList();
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
