package dev.trainyard.spec;

import java.util.Collections;
import java.util.List;

/**
 * When a job's pipeline may be cut between stages over several runners: a multi-node job of at least two stages, each
 * stage a tensor-parallel group of t devices (tensorParallel, 1 for single-device stages) that always sits inside one
 * runner, in one or more data-parallel replicas (gpus = t x stages x dataParallel), at any ZeRO stage (at ZeRO 3 each
 * stage's runners gather its parameters block by block among themselves). An elastic job (minGpus below gpus) may be
 * cut when its minimum is a whole number of replicas' devices: it runs on fewer cut replicas, each process then
 * training several replicas' rows, so the global batch stays the spec's.
 */
public final class PipelineCut {
    private PipelineCut() {}

    /** Whether the scheduler may place the job's stages on different runners. */
    public static boolean allowed(JobSpec spec) {
        ParallelismSpec p = spec.parallelism();
        Resources r = spec.resources();
        return p != null
                && r != null
                && Boolean.TRUE.equals(r.multiNode())
                && p.dataParallel() != null
                && p.dataParallel() >= 1
                && r.gpus() != null
                && r.minGpus() != null
                && MemoryPlan.stages(spec) >= 2
                && MemoryPlan.stages(spec) * p.tensorParallelOrDefault() * p.dataParallel() == r.gpus()
                && wholeReplicas(r.minGpus(), MemoryPlan.stages(spec) * p.tensorParallelOrDefault());
    }

    /** Whether an elastic minimum is one or more whole cut replicas (t x stages devices each). */
    private static boolean wholeReplicas(int minGpus, int replicaGpus) {
        return minGpus >= replicaGpus && minGpus % replicaGpus == 0;
    }

    /** The fewest replicas the job may run on: its minGpus in whole replicas (the spec's replicas when not elastic). */
    public static int minReplicas(JobSpec spec) {
        return spec.resources().minGpus() / (MemoryPlan.stages(spec) * tensorParallel(spec));
    }

    /** The job's data-parallel replicas, each cut the same way. */
    public static int replicas(JobSpec spec) {
        return spec.parallelism().dataParallel();
    }

    /** Devices of one stage, its tensor-parallel group: they are never split between runners. */
    public static int tensorParallel(JobSpec spec) {
        return spec.parallelism().tensorParallelOrDefault();
    }

    /**
     * Each stage's device memory in stage order ({@link ProcessLayout#perStage}), per device of its tensor-parallel
     * group (each holds its 1/t of the split tensors and the whole replicated ones), for a process holding one
     * replica's share of it: cut, each stage's d replicas are d processes sharing its ZeRO state (at ZeRO 3 each holds
     * 1/d of its parameters plus the blocks it has gathered); placed whole, k replicas in one process share it over
     * d/k processes, which k of these replicas' figures cover. An elastic cut job is judged at its minimum, its
     * busiest layout: m = minGpus / (t x stages) processes per stage, each training up to ceil(d / m) replicas' rows
     * and holding 1/m of the ZeRO state. Empty when only the model file knows the layout.
     */
    public static List<MemoryEstimate> perStage(JobSpec spec) {
        int fewest = Math.max(1, minReplicas(spec));
        int busiest = Math.max(1, (replicas(spec) + fewest - 1) / fewest);
        return new ProcessLayout(fewest, busiest).perStage(spec, MemoryPlan.stages(spec));
    }

    /** {@link #perStage} as bytes, one per stage, 0 where unknown. */
    public static List<Long> stageBytes(JobSpec spec) {
        List<MemoryEstimate> stages = perStage(spec);
        return stages.isEmpty()
                ? Collections.nCopies(MemoryPlan.stages(spec), 0L)
                : stages.stream().map(MemoryEstimate::totalBytes).toList();
    }
}
