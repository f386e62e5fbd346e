package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelLayoutTest {

    @Test
    void gptBlocksCountTheTensorsTheEngineRegisters() {
        int d = 16;
        int t = 8;
        int v = 128;
        ModelLayout layout = ModelLayout.of(new ModelSpec.Gpt("gpt", 2, d, 2, t, v, 0.0));

        // tok_emb [v, d], pos_emb [t, d]
        long embedding = v * d + t * d;
        // ln1 and ln2 (weight, bias), qkv [3d, d] + bias, attention proj [d, d] + bias, mlp.fc [4d, d] + bias,
        // mlp.proj [d, 4d] + bias
        long transformer = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d);
        // ln_f (weight, bias), head [v, d] without bias
        long head = 2 * d + v * d;
        assertThat(layout.parameterCounts()).containsExactly(embedding, transformer, transformer, head);
        assertThat(layout.parameters()).isEqualTo(embedding + 2 * transformer + head);
    }

    @Test
    void aTensorParallelDeviceHoldsItsShareOfTheSplitWeightsAndTheWholeNorms() {
        int d = 16;
        int t = 8;
        int v = 128;
        ModelSpec.Gpt gpt = new ModelSpec.Gpt("gpt", 2, d, 2, t, v, 0.0);
        ModelLayout whole = ModelLayout.of(gpt);
        ModelLayout half = ModelLayout.of(gpt, 2);

        // norms (4d) and the biases added after the all-reduces (2d) stay whole; the rest is halved
        long transformer = 6 * d + ((3 * d * d + 3 * d) + d * d + (4 * d * d + 4 * d) + 4 * d * d) / 2;
        assertThat(half.parameterCounts())
                .containsExactly(v * d / 2 + t * d, transformer, transformer, 2 * d + v * d / 2);
        assertThat(ModelLayout.of(gpt, 1)).isEqualTo(whole);
        assertThat(half.blocks().get(1).activationFloatsPerSample())
                .isLessThan(whole.blocks().get(1).activationFloatsPerSample());
    }

    @Test
    void mlpBlocksAreItsDenseLayers() {
        ModelLayout layout = ModelLayout.of(new ModelSpec.Mlp("mlp", 4, List.of(8, 6), 3, "classification"));

        assertThat(layout.parameterCounts()).containsExactly(4 * 8 + 8, 8 * 6 + 6, 6 * 3 + 3);
    }

    @Test
    void memoryPerStageHoldsFourCopiesOfTheParametersAndTheScheduleInFlightActivations() {
        JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(JobSpecValidatorTest.MINIMAL
                .replace("\"layers\": 1", "\"layers\": 2")
                .replace("\"gpus\": 1", "\"gpus\": 2")));
        ModelLayout layout = ModelLayout.of(spec.model());

        List<MemoryEstimate> stages = MemoryPlan.perStage(spec, 2);

        List<StageRange> ranges = StagePartitioner.byParameters(layout, 2);
        long firstParams = layout.blocks().subList(0, ranges.get(0).endBlock()).stream()
                .mapToLong(BlockLayout::parameters)
                .sum();
        assertThat(stages).hasSize(2);
        assertThat(stages.get(0).parameterBytes()).isEqualTo(4 * firstParams);
        assertThat(stages.get(0).optimizerBytes()).isEqualTo(8 * firstParams);
        // 1F1B with 4 micro-batches of 16 / 4 rows: stage 0 holds 2 in flight, the last stage 1, and it keeps every
        // micro-batch's input received and gradient sent back until the step ends
        long lastActivations = layout.blocks().subList(ranges.get(1).firstBlock(), 4).stream()
                .mapToLong(BlockLayout::activationFloatsPerSample)
                .sum();
        long lastInput = layout.blocks().get(ranges.get(1).firstBlock() - 1).outputFloatsPerSample();
        assertThat(stages.get(1).activationBytes())
                .isEqualTo(4L * (1 * (lastActivations + lastInput) + 4 * 2 * lastInput) * 4);
    }

    @Test
    void zeroDividesTheMomentsByTheDataParallelRanksAndZeroTwoStillPeaksWithTheWholeGradient() {
        String twoReplicas = JobSpecValidatorTest.MINIMAL
                .replace("\"layers\": 1", "\"layers\": 2")
                .replace("\"gpus\": 1", "\"gpus\": 2")
                .replace("\"training\"", "\"parallelism\": {\"dataParallel\": 2, \"zero\": ZERO}, \"training\"");
        MemoryEstimate[] byStage = new MemoryEstimate[3];
        for (int zero = 0; zero < 3; zero++) {
            byStage[zero] = MemoryPlan.perStage(
                            JobSpecValidator.normalize(SpecDocument.parse(twoReplicas.replace("ZERO", "" + zero))), 1)
                    .get(0);
        }
        long params = ModelLayout.of(JobSpecValidator.normalize(SpecDocument.parse(twoReplicas.replace("ZERO", "0")))
                        .model())
                .parameters();
        long half = (params + 1) / 2;

        assertThat(byStage[0].optimizerBytes()).isEqualTo(8 * params);
        assertThat(byStage[0].gradientBytes()).isEqualTo(4 * params);
        assertThat(byStage[1].optimizerBytes()).isEqualTo(8 * half);
        assertThat(byStage[1].gradientBytes()).isEqualTo(4 * params);
        assertThat(byStage[2].optimizerBytes()).isEqualTo(8 * half);
        // the engine accumulates ZeRO 2's whole gradient over the micro-batches and releases it after backward
        assertThat(byStage[2].gradientBytes()).isEqualTo(4 * params);
        assertThat(byStage[2].parameterBytes()).isEqualTo(byStage[0].parameterBytes());
        assertThat(byStage[2].activationBytes()).isEqualTo(byStage[0].activationBytes());
    }

    @Test
    void aTorchScriptModelHasNoLayoutBeforeItsFileIsLoaded() {
        ModelSpec script = new ModelSpec.TorchScript("torchscript", "file:///m.pt", "classification", 8, null, null);

        assertThat(ModelLayout.known(script)).isFalse();
    }
}
