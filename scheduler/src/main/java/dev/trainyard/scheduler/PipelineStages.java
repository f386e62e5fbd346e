package dev.trainyard.scheduler;

import java.util.List;

/**
 * A pipeline that may be cut between stages over several runners, in {@code replicas} data-parallel replicas: stage
 * s is a tensor-parallel group of {@code tensorParallel} GPUs, which always sit on one runner, and each of them needs
 * {@code stageBytes[s]} bytes of device memory by the job's memory plan for that group width (0 where the plan is
 * unknown). Stages keep their order: runner rank r of a replica holds the stages right after rank r - 1's, k stages
 * on k x tensorParallel GPUs, and every replica is cut the same way (the engine's process grid gives each pipeline
 * rank the same stages in every replica). An elastic job asks for {@code replicas} and may run on fewer of them
 * ({@link #withReplicas}), each cut the same way; the engine then trains several replicas' rows per process.
 */
public record PipelineStages(List<Long> stageBytes, int replicas, int tensorParallel) {

    public PipelineStages {
        stageBytes = List.copyOf(stageBytes);
        if (stageBytes.size() < 2) {
            throw new IllegalArgumentException("a pipeline cut between stages needs at least 2 stages");
        }
        if (replicas < 1) {
            throw new IllegalArgumentException("a pipeline needs at least 1 replica, not " + replicas);
        }
        if (tensorParallel < 1) {
            throw new IllegalArgumentException("a stage needs at least 1 GPU, not " + tensorParallel);
        }
    }

    /** Replicas of a pipeline of single-GPU stages. */
    public PipelineStages(List<Long> stageBytes, int replicas) {
        this(stageBytes, replicas, 1);
    }

    /** One replica's pipeline of single-GPU stages. */
    public PipelineStages(List<Long> stageBytes) {
        this(stageBytes, 1, 1);
    }

    /** The same pipeline in {@code other} replicas: an elastic job placed short, or grown. */
    PipelineStages withReplicas(int other) {
        return other == replicas ? this : new PipelineStages(stageBytes, other, tensorParallel);
    }

    int count() {
        return stageBytes.size();
    }

    /** GPUs of the whole job: every replica's stages, each of tensorParallel GPUs. */
    int gpus() {
        return replicaGpus() * replicas;
    }

    /** GPUs of one replica's pipeline. */
    int replicaGpus() {
        return count() * tensorParallel;
    }

    /** Whole stages that {@code gpus} GPUs of one runner hold: a stage's group is never split. */
    int stagesOn(int gpus) {
        return gpus / tensorParallel;
    }

    /** Bytes each GPU of stage {@code stage}'s group needs. */
    long bytes(int stage) {
        return stageBytes.get(stage);
    }
}
