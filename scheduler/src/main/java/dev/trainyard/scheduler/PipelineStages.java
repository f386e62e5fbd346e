package dev.trainyard.scheduler;

import java.util.List;

/**
 * A pipeline that may be cut between stages over several runners, in {@code replicas} data-parallel replicas: stage
 * s takes one GPU (tensorParallel 1) and needs {@code stageBytes[s]} bytes of device memory by the job's memory plan
 * (0 where the plan is unknown). Stages keep their order: runner rank r of a replica holds the stages right after
 * rank r - 1's, and every replica is cut the same way (the engine's process grid gives each pipeline rank the same
 * stages in every replica).
 */
public record PipelineStages(List<Long> stageBytes, int replicas) {

    public PipelineStages {
        stageBytes = List.copyOf(stageBytes);
        if (stageBytes.size() < 2) {
            throw new IllegalArgumentException("a pipeline cut between stages needs at least 2 stages");
        }
        if (replicas < 1) {
            throw new IllegalArgumentException("a pipeline needs at least 1 replica, not " + replicas);
        }
    }

    /** One replica's pipeline. */
    public PipelineStages(List<Long> stageBytes) {
        this(stageBytes, 1);
    }

    int count() {
        return stageBytes.size();
    }

    /** GPUs of the whole job: every replica's stages. */
    int gpus() {
        return count() * replicas;
    }

    long bytes(int stage) {
        return stageBytes.get(stage);
    }
}
