package dev.trainyard.runner.engine;

import static dev.trainyard.runner.engine.EngineRuns.bitwiseEqual;
import static dev.trainyard.runner.engine.EngineRuns.maxAbsDifference;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainyard.runner.engine.EngineRuns.Recorded;
import dev.trainyard.spec.JobSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pipeline training computes the same function as single-device training.
 *
 * <p>With the same micro-batch count, stages and schedules only move the same float operations to other
 * threads (one intra-op thread each, gradient norms summed in global parameter order), so results must be
 * bitwise equal. Splitting a batch into m micro-batches changes float32 summation order (gradients are
 * accumulated as m partial means), which perturbs gradients by ~1e-7 relative. AdamW divides by the
 * gradient's running RMS, so for elements whose gradient is near zero that relative error is amplified;
 * observed parameter differences are up to ~3e-6 after 4 steps. Parameters are compared to 1e-4 absolute
 * (well above that, well below a real defect such as a wrong micro-batch scale, which moves parameters by
 * about the learning rate, 3e-3) and losses to 1e-4; the runs are deterministic, so this cannot flake.
 */
class PipelineEquivalenceTest {

    private static final int STEPS = 4;
    private static Recorded singleDevice;
    private static Recorded singleDeviceFourMicroBatches;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void trainReferences() {
        JobSpec base = EngineRuns.tinyGpt(STEPS, 0.0);
        singleDevice = EngineRuns.train(EngineRuns.withPipeline(base, 1, 1, "1f1b", false), tmp.resolve("ref1"));
        singleDeviceFourMicroBatches =
                EngineRuns.train(EngineRuns.withPipeline(base, 1, 4, "1f1b", false), tmp.resolve("ref4"));
    }

    static Stream<Arguments> pipelines() {
        List<Arguments> cases = new ArrayList<>();
        for (int stages = 1; stages <= 4; stages++) {
            for (String schedule : List.of("gpipe", "1f1b")) {
                for (int microBatches : List.of(1, 2, 4)) {
                    for (boolean recompute : List.of(false, true)) {
                        cases.add(Arguments.of(stages, schedule, microBatches, recompute));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} stages, {1}, {2} micro-batches, recompute {3}")
    @MethodSource("pipelines")
    void matchesSingleDeviceTraining(int stages, String schedule, int microBatches, boolean recompute) {
        JobSpec spec =
                EngineRuns.withPipeline(EngineRuns.tinyGpt(STEPS, 0.0), stages, microBatches, schedule, recompute);
        Recorded pipeline = EngineRuns.train(spec, tmp.resolve(stages + schedule + microBatches + recompute));

        assertThat(pipeline.losses()).hasSize(STEPS);
        for (int i = 0; i < STEPS; i++) {
            assertThat(pipeline.losses().get(i)).isCloseTo(singleDevice.losses().get(i), within(1e-4));
        }
        double difference = maxAbsDifference(pipeline.parameters(), singleDevice.parameters());
        System.out.printf(
                "%d stages %s m=%d recompute=%s: max |param difference| %.3g, loss %.6f vs %.6f%n",
                stages,
                schedule,
                microBatches,
                recompute,
                difference,
                pipeline.losses().get(STEPS - 1),
                singleDevice.losses().get(STEPS - 1));
        assertThat(difference).isLessThan(1e-4);
        if (microBatches == 1) {
            assertThat(bitwiseEqual(pipeline.parameters(), singleDevice.parameters()))
                    .isTrue();
            assertThat(pipeline.losses()).isEqualTo(singleDevice.losses());
        }
        if (microBatches == 4) {
            assertThat(bitwiseEqual(pipeline.parameters(), singleDeviceFourMicroBatches.parameters()))
                    .isTrue();
        }
    }
}
