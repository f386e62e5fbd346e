package dev.trainyard.spec;

import java.util.Collections;
import java.util.List;

/**
 * When one replica's pipeline may be cut between stages over several runners: a multi-node job with one
 * data-parallel replica of single-device stages (tensorParallel 1), at least two of them, not elastic. The engine
 * does not yet cut a pipeline of tensor-parallel stages, or of several replicas, between processes; such jobs
 * spread only whole replicas over runners.
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
                && p.dataParallel() == 1
                && p.tensorParallelOrDefault() == 1
                && r.gpus() != null
                && r.gpus() >= 2
                && r.gpus().equals(r.minGpus())
                && MemoryPlan.stages(spec) == r.gpus();
    }

    /**
     * Each stage's device memory by the plan a lone process of the job would have ({@link ProcessLayout#perStage}),
     * in stage order; zeros when only the model file knows the layout.
     */
    public static List<MemoryEstimate> perStage(JobSpec spec) {
        return new ProcessLayout(1, 1).perStage(spec, MemoryPlan.stages(spec));
    }

    /** {@link #perStage} as bytes, one per stage, 0 where unknown. */
    public static List<Long> stageBytes(JobSpec spec) {
        List<MemoryEstimate> stages = perStage(spec);
        return stages.isEmpty()
                ? Collections.nCopies(MemoryPlan.stages(spec), 0L)
                : stages.stream().map(MemoryEstimate::totalBytes).toList();
    }
}
