package dev.trainyard.system.support;

import dev.trainyard.client.model.ArithmeticData;
import dev.trainyard.client.model.CheckpointPolicy;
import dev.trainyard.client.model.DataSpec;
import dev.trainyard.client.model.GptModel;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.Limits;
import dev.trainyard.client.model.ModelSpec;
import dev.trainyard.client.model.ParallelismSpec;
import dev.trainyard.client.model.Resources;
import dev.trainyard.client.model.TrainingSpec;

/** Small job specs that train in seconds on two CPU cores. */
public final class Specs {
    private Specs() {}

    /** A 2-layer GPT on the arithmetic corpus over {@code gpus} pipeline stages. */
    public static JobSpec tinyGpt(String name, int gpus, long steps, int checkpointEvery) {
        return new JobSpec()
                .name(name)
                .project(Platform.PROJECT)
                .priority(JobSpec.PriorityEnum.fromValue("normal"))
                .resources(new Resources().pool(Platform.POOL).gpus(gpus))
                .limits(new Limits().maxRuntimeSeconds(3600L).maxRestarts(3))
                .model(new ModelSpec(new GptModel()
                        .type(GptModel.TypeEnum.GPT)
                        .layers(2)
                        .dModel(32)
                        .heads(4)
                        .seqLen(16)
                        .vocab(128)))
                .data(new DataSpec(new ArithmeticData()
                        .type(ArithmeticData.TypeEnum.ARITHMETIC)
                        .seed(7L)))
                .training(new TrainingSpec()
                        .steps(steps)
                        .batchSize(16)
                        .learningRate(0.003)
                        .seed(11L)
                        .evalEvery(10))
                .parallelism(
                        new ParallelismSpec().microBatches(4).schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")))
                .checkpoint(new CheckpointPolicy().everySteps(checkpointEvery).keepLast(3));
    }

    /**
     * {@link #tinyGpt} as 2 data-parallel replicas of a 2-stage pipeline (1F1B, 2 micro-batches), each stage a group of
     * {@code tensorParallel} devices, that may be spread over runners: on runners too small for a replica, every
     * replica is cut between its stages.
     */
    public static JobSpec cutReplicas(String name, int tensorParallel, int zero, long steps, int checkpointEvery) {
        JobSpec spec = tinyGpt(name, 4 * tensorParallel, steps, checkpointEvery);
        spec.getResources().multiNode(true);
        return spec.parallelism(new ParallelismSpec()
                .tensorParallel(tensorParallel)
                .stages(2)
                .dataParallel(2)
                .zero(zero)
                .microBatches(2)
                .schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")));
    }
}
