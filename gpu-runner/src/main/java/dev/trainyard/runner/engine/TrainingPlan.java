package dev.trainyard.runner.engine;

import java.util.List;

/** How a run will be executed: stages, schedule, micro-batches, threads per stage, memory per stage. */
public record TrainingPlan(
        List<StagePlan> stages,
        PipelineSchedule schedule,
        int microBatches,
        boolean recompute,
        int threadsPerStage,
        long totalParameters,
        long memoryLimitBytes) {

    public long estimatedPeakBytes() {
        return stages.stream().mapToLong(s -> s.memory().totalBytes()).sum();
    }
}
