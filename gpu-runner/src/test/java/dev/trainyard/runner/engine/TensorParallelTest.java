package dev.trainyard.runner.engine;

import static dev.trainyard.runner.engine.EngineRuns.maxAbsDifference;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainyard.runner.engine.EngineRuns.Recorded;
import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tensor-parallel training (heads, MLP and vocabulary split across t devices of a stage, Gloo between their
 * threads) computes the same function as single-device training, from the same initial weights.
 *
 * <p>Not bitwise: a split matmul sums each output over d/t (or 4d/t) products per rank and the all-reduce adds
 * the t partial sums, where one device sums all d in one order; the vocabulary-parallel cross-entropy sums
 * exponentials per slice, then across slices; gradient norms add slices' squares. Float32 reassociation moves
 * values by ~1e-7 relative, and AdamW amplifies that for elements with near-zero gradients, as in
 * {@link PipelineEquivalenceTest}. Losses are compared to 1e-4 and parameters to 1e-4 absolute after 4 steps:
 * well above rounding, well below a real defect (a missing all-reduce, a gradient counted t times or a wrong
 * slice moves parameters by about the learning rate, 3e-3, in one step). The runs are deterministic.
 */
class TensorParallelTest {

    private static final int STEPS = 4;
    private static final int MICRO_BATCHES = 2;
    private static Recorded singleDevice;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void trainReference() {
        singleDevice = EngineRuns.train(
                EngineRuns.withTensorParallel(EngineRuns.tinyGpt(STEPS, 0.1), 1, 1, MICRO_BATCHES, "1f1b"),
                tmp.resolve("reference"));
    }

    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of(2, 1, "1f1b", false),
                Arguments.of(2, 1, "gpipe", false),
                Arguments.of(2, 2, "1f1b", false),
                Arguments.of(2, 2, "gpipe", false),
                Arguments.of(2, 2, "1f1b", true),
                Arguments.of(4, 1, "1f1b", false));
    }

    @ParameterizedTest(name = "tensorParallel {0}, {1} stages, {2}, recompute {3}")
    @MethodSource("layouts")
    void matchesSingleDeviceTraining(int tensorParallel, int stages, String schedule, boolean recompute) {
        JobSpec spec = EngineRuns.withTensorParallel(
                EngineRuns.tinyGpt(STEPS, 0.1), tensorParallel, stages, MICRO_BATCHES, schedule, recompute);
        Recorded split =
                EngineRuns.train(spec, tmp.resolve("t" + tensorParallel + "p" + stages + schedule + recompute));

        assertThat(split.losses()).hasSize(STEPS);
        for (int i = 0; i < STEPS; i++) {
            assertThat(split.losses().get(i)).isCloseTo(singleDevice.losses().get(i), within(1e-4));
        }
        // the export holds whole tensors under their global names, whatever the split
        assertThat(shapes(split)).isEqualTo(shapes(singleDevice));
        double difference = maxAbsDifference(split.parameters(), singleDevice.parameters());
        System.out.printf(
                "t=%d p=%d %s recompute=%s: max |param difference| %.3g, loss %.6f vs %.6f%n",
                tensorParallel,
                stages,
                schedule,
                recompute,
                difference,
                split.losses().get(STEPS - 1),
                singleDevice.losses().get(STEPS - 1));
        assertThat(difference).isLessThan(1e-4);
        // each device held its share: the stages' per-device parameters add up to 1/t of the split weights
        long perDevice =
                split.plan().stages().stream().mapToLong(StagePlan::parameters).sum();
        assertThat(perDevice).isLessThan(singleDevice.plan().totalParameters() * 2 / (tensorParallel + 1));
    }

    @Test
    void aCheckpointWrittenAtTwoDevicesResumesOnOneLikeTheUninterruptedRun() {
        JobSpec atTwo = EngineRuns.withCheckpointEvery(
                EngineRuns.withTensorParallel(EngineRuns.tinyGpt(2 * STEPS, 0.1), 2, 1, MICRO_BATCHES, "1f1b"), STEPS);
        JobSpec atOne = EngineRuns.withCheckpointEvery(
                EngineRuns.withTensorParallel(EngineRuns.tinyGpt(2 * STEPS, 0.1), 1, 1, MICRO_BATCHES, "1f1b"), STEPS);
        Recorded uninterrupted = EngineRuns.train(atOne, tmp.resolve("uninterrupted"));
        Recorded firstHalf = EngineRuns.train(
                atTwo,
                tmp.resolve("first-half"),
                Optional.empty(),
                done -> done == STEPS ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
        assertThat(firstHalf.result().finalStep()).isEqualTo(STEPS);
        Path checkpoint = firstHalf.result().lastCheckpoint().orElseThrow().path();

        Recorded secondHalf =
                EngineRuns.train(atOne, tmp.resolve("second-half"), Optional.of(checkpoint), StopSignal.never());

        assertThat(secondHalf.losses()).hasSize(STEPS);
        for (int i = 0; i < STEPS; i++) {
            assertThat(secondHalf.losses().get(i))
                    .isCloseTo(uninterrupted.losses().get(STEPS + i), within(1e-4));
        }
        assertThat(maxAbsDifference(secondHalf.parameters(), uninterrupted.parameters()))
                .isLessThan(1e-4);
    }

    /**
     * Two tensor-parallel ranks in one process restore from a checkpoint by reading only their own slices of each
     * split tensor (columns, rows, vocabulary, QKV's parts): between them each split tensor's bytes once, and each
     * rank reads whole only what every rank holds whole (position embedding, layer norms, row-parallel biases).
     */
    @Test
    void twoTensorRanksInOneProcessReadEachSplitTensorOnceOnRestore() {
        JobSpec atTwo = EngineRuns.withCheckpointEvery(
                EngineRuns.withTensorParallel(EngineRuns.tinyGpt(STEPS, 0.1), 2, 1, MICRO_BATCHES, "1f1b"), 2);
        Path checkpoint = EngineRuns.train(
                        atTwo,
                        tmp.resolve("tp-restore-written"),
                        Optional.empty(),
                        done -> done == 2 ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE)
                .result()
                .lastCheckpoint()
                .orElseThrow()
                .path();
        List<String> logs = new ArrayList<>();
        TrainingRun resumed = TrainingRun.of(atTwo, 2, tmp.resolve("tp-restore-resumed"))
                .withThreadsPerStage(1)
                .resumingFrom(checkpoint)
                .reportingTo(new TrainingListener() {
                    @Override
                    public void onLog(String line) {
                        logs.add(line);
                    }
                });

        Trainer.train(resumed, new TorchEngine());

        long checkpointBytes;
        long replicatedBytes = 0;
        try (CheckpointReader reader = CheckpointStore.open(checkpoint)) {
            checkpointBytes = reader.checkpointBytes();
            for (String name : reader.parameterNames()) {
                if (name.contains("pos_emb") || name.contains(".ln") || name.endsWith("proj.bias")) {
                    // the parameter and its two AdamW moments
                    replicatedBytes += 3
                            * 4
                            * TensorRegion.whole(reader.parameters().shape(name))
                                    .elements();
                }
            }
        }
        assertThat(replicatedBytes).isPositive();
        String read = String.format(
                "restore read %d of the checkpoint's %d bytes of tensors,",
                checkpointBytes + replicatedBytes, checkpointBytes);
        assertThat(logs).anySatisfy(line -> assertThat(line).startsWith(read));
    }

    private static Map<String, Integer> shapes(Recorded run) {
        return run.parameters().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().length));
    }
}
