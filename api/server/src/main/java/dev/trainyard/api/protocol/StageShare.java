package dev.trainyard.api.protocol;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.MemoryPlan;
import dev.trainyard.spec.PipelineCut;

/**
 * Which stages of a replica's pipeline a runner holds when the scheduler cut it between runners: the gang's ranks
 * hold the stages in order, one per GPU, so the GPUs of the ranks before a runner count the stages before its own.
 */
final class StageShare {
    private StageShare() {}

    /** This runner's share, or null when every runner of the attempt holds whole pipelines. */
    static RunnerMessages.PipelineShare of(JobSpec spec, int runners, int rank, int gpusBefore, int gpus) {
        if (runners < 2 || !PipelineCut.allowed(spec)) {
            return null;
        }
        return new RunnerMessages.PipelineShare(rank, runners, gpusBefore, gpusBefore + gpus, MemoryPlan.stages(spec));
    }
}
