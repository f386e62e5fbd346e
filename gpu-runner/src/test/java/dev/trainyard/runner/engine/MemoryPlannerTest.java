package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.BlockLayout;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.MemoryEstimate;
import dev.trainyard.spec.MemoryPlan;
import dev.trainyard.spec.ModelLayout;
import dev.trainyard.spec.ModelSpec;
import dev.trainyard.spec.StageRange;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The memory plan accounts for the schedule and refuses plans that do not fit, saying why. */
class MemoryPlannerTest {

    @TempDir
    Path tmp;

    private final ModelLayout layout = ModelLayout.of(new ModelSpec.Gpt("gpt", 4, 64, 4, 32, 128, 0.0));
    private final StageRange firstOfTwo = new StageRange(0, 0, 3);

    @Test
    void gpipeHoldsMoreActivationsThanOneFOneBAndRecomputeLess() {
        long gpipe = MemoryPlanner.estimate(layout, firstOfTwo, 2, PipelineSchedule.GPIPE, 8, 2, false)
                .activationBytes();
        long oneFOneB = MemoryPlanner.estimate(layout, firstOfTwo, 2, PipelineSchedule.ONE_F_ONE_B, 8, 2, false)
                .activationBytes();
        long recompute = MemoryPlanner.estimate(layout, firstOfTwo, 2, PipelineSchedule.ONE_F_ONE_B, 8, 2, true)
                .activationBytes();

        // 8 micro-batches in flight against 2, beside the boundary tensors the step keeps: the outputs sent under
        // GPipe, and under 1F1B those and the gradients received (bytes of one micro-batch's output: 2 rows)
        long output = layout.blocks().get(2).outputFloatsPerSample() * 2 * 4;
        assertThat(gpipe - 8 * output).isEqualTo(4 * (oneFOneB - 8 * 2 * output));
        assertThat(recompute).isLessThan(oneFOneB);
    }

    @Test
    void sixteenBytesPerParameterForWeightsGradientsAndAdamW() {
        MemoryEstimate estimate = MemoryPlanner.estimate(layout, firstOfTwo, 2, PipelineSchedule.GPIPE, 1, 1, false);
        long params = layout.blocks().subList(0, 3).stream()
                .mapToLong(BlockLayout::parameters)
                .sum();
        assertThat(estimate.parameterBytes() + estimate.gradientBytes() + estimate.optimizerBytes())
                .isEqualTo(16 * params);
    }

    @Test
    void theTrainerRefusesAPlanThatDoesNotFit() {
        JobSpec spec = EngineRuns.tinyGpt(1, 0);
        // Room for the weights, gradients and AdamW state (checked before building) but not for the activations.
        MemoryEstimate plan = MemoryPlan.perStage(spec, 1).get(0);
        long limit = plan.totalBytes() - plan.activationBytes() / 2;
        assertThatThrownBy(() -> Trainer.train(TrainingRun.of(spec, 1, tmp).withMemoryLimit(limit), new TorchEngine()))
                .isInstanceOf(MemoryPlanException.class)
                .hasMessageContaining("stage 0 on cpu")
                .hasMessageContaining("micro-batches");
    }

    @Test
    void everyDeviceOfATensorParallelStageCountsAgainstTheHost() {
        StagePlan stage = new StagePlan(firstOfTwo, "cpu", 0, new MemoryEstimate(100, 100, 200, 600));

        MemoryPlanner.requireFits(List.of(stage), 1, 1000);
        assertThatThrownBy(() -> MemoryPlanner.requireFits(List.of(stage), 2, 1999))
                .isInstanceOf(MemoryPlanException.class)
                .hasMessageContaining("2 tensor-parallel devices per stage");
    }
}
