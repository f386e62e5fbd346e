package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.spec.ModelLayout;
import dev.trainyard.spec.ModelSpec;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

/** The spec module's layout (what the dry run and the memory check count) is what the engine allocates. */
class ModelLayoutParityTest {

    private static long[] allocated(ModelSpec model) {
        try (PointerScope scope = new PointerScope()) {
            return ModelFactory.build(model, 1).stream()
                    .mapToLong(block -> block.parameters().values().stream()
                            .mapToLong(t -> t.numel())
                            .sum())
                    .toArray();
        }
    }

    @Test
    void gptBlocksHoldTheParametersTheLayoutCounts() {
        NativeRuntime.load();
        ModelSpec gpt = new ModelSpec.Gpt("gpt", 2, 32, 4, 16, 128, 0.0);

        assertThat(allocated(gpt)).containsExactly(ModelLayout.of(gpt).parameterCounts());
    }

    @Test
    void mlpBlocksHoldTheParametersTheLayoutCounts() {
        NativeRuntime.load();
        ModelSpec mlp = new ModelSpec.Mlp("mlp", 8, List.of(16, 12), 3, "classification");

        assertThat(allocated(mlp)).containsExactly(ModelLayout.of(mlp).parameterCounts());
    }
}
