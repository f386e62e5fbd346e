package dev.trainyard.scheduler;

import java.util.List;

/**
 * One replica's pipeline that may be cut between stages over several runners: stage s takes one GPU
 * (tensorParallel 1) and needs {@code stageBytes[s]} bytes of device memory by the job's memory plan (0 where the plan
 * is unknown). Stages keep their order: runner rank r holds the stages right after rank r - 1's.
 */
public record PipelineStages(List<Long> stageBytes) {

    public PipelineStages {
        stageBytes = List.copyOf(stageBytes);
        if (stageBytes.size() < 2) {
            throw new IllegalArgumentException("a pipeline cut between stages needs at least 2 stages");
        }
    }

    int count() {
        return stageBytes.size();
    }

    long bytes(int stage) {
        return stageBytes.get(stage);
    }
}
