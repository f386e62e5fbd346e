package dev.trainyard.api.protocol;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.MemoryPlan;
import dev.trainyard.spec.PipelineCut;

/**
 * Which replica, and which of its pipeline's stages, a runner holds when the scheduler cut the replicas between
 * runners. Which stages of a replica's pipeline a runner holds when the scheduler cut it between runners: the gang's ranks
 * hold the stages in order, one per GPU, so the GPUs of the ranks before a runner count the stages before its own.
 */
final class StageShare {
    private StageShare() {}

    /** This runner's share, or null when every runner of the attempt holds whole pipelines. */
    static RunnerMessages.PipelineShare of(JobSpec spec, int runners, int rank, int gpusBefore, int gpus) {
        // a runner given a replica's every stage or more holds whole replicas: the scheduler placed the job uncut
        if (runners < 2 || !PipelineCut.allowed(spec) || gpus >= MemoryPlan.stages(spec)) {
            return null;
        }
        // ranks go replica by replica, every replica cut the same way (the scheduler's PipelineAllocator)
        int stages = MemoryPlan.stages(spec);
        int replicas = PipelineCut.replicas(spec);
        int processes = runners / replicas;
        int first = gpusBefore % stages;
        return new RunnerMessages.PipelineShare(
                rank % processes, processes, first, first + gpus, stages, rank / processes, replicas);
    }
}
