package dev.trainyard.api.protocol;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.MemoryPlan;
import dev.trainyard.spec.PipelineCut;

/**
 * Which replica, and which of its pipeline's stages, a runner holds when the scheduler cut the replicas between
 * runners: the gang's ranks hold the stages in order, each stage a tensor-parallel group of t GPUs on one runner, so
 * the GPUs of the ranks before a runner, divided by t, count the stages before its own. The attempt's replicas are
 * its GPUs over one replica's (t x stages): an elastic job may run on fewer than the spec's dataParallel.
 */
final class StageShare {
    private StageShare() {}

    /** This runner's share, or null when every runner of the attempt holds whole pipelines. */
    static RunnerMessages.PipelineShare of(
            JobSpec spec, int runners, int rank, int gpusBefore, int gpus, int attemptGpus) {
        int stages = MemoryPlan.stages(spec);
        int t = PipelineCut.tensorParallel(spec);
        // a runner given a replica's every stage or more holds whole replicas: the scheduler placed the job uncut
        if (runners < 2 || !PipelineCut.allowed(spec) || gpus >= stages * t) {
            return null;
        }
        // ranks go replica by replica, every replica cut the same way (the scheduler's PipelineAllocator)
        int replicas = Math.max(1, attemptGpus / (stages * t));
        int processes = runners / replicas;
        int first = gpusBefore / t % stages;
        return new RunnerMessages.PipelineShare(
                rank % processes, processes, first, first + gpus / t, stages, rank / processes, replicas);
    }
}
