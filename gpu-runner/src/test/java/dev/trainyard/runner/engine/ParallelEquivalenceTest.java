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
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every way of splitting a job (tensorParallel t, stages p, dataParallel d, ZeRO stage, schedule) trains the same
 * function as one device: the losses of each step and the parameters after {@value #STEPS} steps of a tiny GPT
 * (no dropout, so the masks cannot depend on how rows fall into micro-batches; gradient clipping at 1.0, which
 * acts in these steps, so a wrong global norm shows). Data-parallel processes run as threads of this JVM, each
 * with its own stores and Gloo groups, as separate runners would.
 *
 * <p>Which cases are bitwise: with t = 1 and d = 1, stages and schedules only move the same float operations to
 * other threads (one intra-op thread each, gradient norms summed in global parameter order), so the results must
 * be bitwise equal ({@link PipelineEquivalenceTest}). Tensor parallelism adds partial matmul sums in another
 * order (across the all-reduce), and data parallelism sums each process's half-batch mean and then averages
 * across processes instead of accumulating all micro-batches in one: those cases agree within {@value
 * #TOLERANCE} (observed differences are a few 1e-6; a missing average, a gradient counted twice or a wrong
 * clipping norm moves parameters by about the learning rate, 3e-3, in one step).
 *
 * <p>The matrix: t, p, d in {1, 2}, ZeRO 0, 1 and 2 where d = 2, both schedules where p = 2 (with one stage
 * GPipe and 1F1B are the same op list), t = 4 once, and once d = 4 replicas held two by two by 2 processes;
 * ZeRO 3 for p2 d2, t2 p2 d2 and the d = 4 case, and resumed from a t2 p2 d2 ZeRO 3 checkpoint at t1;
 * each run takes about a second, so the whole matrix runs by default.
 */
class ParallelEquivalenceTest {

    private static final int STEPS = 4;
    private static final int MICRO_BATCHES = 2;
    private static final double TOLERANCE = 1e-4;
    private static Recorded singleDevice;

    @TempDir
    static Path tmp;

    /** {@code processes} hold the d replicas, d / processes each. */
    record Layout(int t, int p, int d, int zero, String schedule, int processes) {

        Layout(int t, int p, int d, int zero, String schedule) {
            this(t, p, d, zero, schedule, d);
        }

        /** The same float operations as one device, in the same order: must be bitwise equal. */
        boolean sameArithmetic() {
            return t == 1 && d == 1;
        }

        JobSpec spec(int steps) {
            return EngineRuns.withLayout(EngineRuns.tinyGpt(steps, 0.0), t, p, d, zero, MICRO_BATCHES, schedule);
        }

        @Override
        public String toString() {
            return "t" + t + " p" + p + " d" + d + " zero" + zero + " " + schedule
                    + (processes == d ? "" : " on " + processes + " processes");
        }
    }

    @BeforeAll
    static void trainOnOneDevice() {
        singleDevice = EngineRuns.train(new Layout(1, 1, 1, 0, "1f1b").spec(STEPS), tmp.resolve("single"));
    }

    static Stream<Layout> layouts() {
        List<Layout> layouts = new ArrayList<>();
        for (int d = 1; d <= 2; d++) {
            for (int t = 1; t <= 2; t++) {
                for (int p = 1; p <= 2; p++) {
                    if (t * p * d == 1) {
                        continue; // the reference itself
                    }
                    for (int zero = 0; zero <= (d == 2 ? 2 : 0); zero++) {
                        for (String schedule : p == 2 ? List.of("gpipe", "1f1b") : List.of("1f1b")) {
                            layouts.add(new Layout(t, p, d, zero, schedule));
                        }
                    }
                }
            }
        }
        layouts.add(new Layout(4, 1, 2, 1, "1f1b"));
        // two processes holding two replicas each: a process trains its replicas' rows as one tensor-parallel
        // pipeline and counts twice in the mean
        layouts.add(new Layout(2, 1, 4, 2, "1f1b", 2));
        // ZeRO 3 (parameters sliced, gathered block by block) with pipelines and tensor parallelism
        layouts.add(new Layout(1, 2, 2, 3, "1f1b"));
        layouts.add(new Layout(2, 2, 2, 3, "gpipe"));
        layouts.add(new Layout(2, 1, 4, 3, "1f1b", 2));
        return layouts.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void matchesSingleDeviceTraining(Layout layout) {
        Recorded split = EngineRuns.trainAsProcesses(
                layout.spec(STEPS),
                layout.processes(),
                tmp.resolve(layout.toString().replace(' ', '-')),
                Optional.empty(),
                never());

        double difference = maxAbsDifference(split.parameters(), singleDevice.parameters());
        System.out.printf(
                "%s: %s, max |param difference| %.3g, last loss %.7f vs %.7f%n",
                layout,
                layout.sameArithmetic() ? "bitwise" : "within " + TOLERANCE,
                difference,
                split.losses().get(STEPS - 1),
                singleDevice.losses().get(STEPS - 1));
        assertThat(split.losses()).hasSize(STEPS);
        if (layout.sameArithmetic()) {
            assertThat(split.losses()).as(layout.toString()).isEqualTo(singleDevice.losses());
            assertThat(bitwiseEqual(split.parameters(), singleDevice.parameters()))
                    .as("%s: bitwise, but max difference %s", layout, difference)
                    .isTrue();
            return;
        }
        for (int i = 0; i < STEPS; i++) {
            assertThat(split.losses().get(i))
                    .as("%s step %d", layout, i + 1)
                    .isCloseTo(singleDevice.losses().get(i), within(TOLERANCE));
        }
        assertThat(difference).as(layout.toString()).isLessThan(TOLERANCE);
    }

    static Stream<Arguments> reshardings() {
        return Stream.of(
                Arguments.of(new Layout(2, 2, 1, 0, "1f1b"), new Layout(1, 1, 2, 2, "1f1b")),
                Arguments.of(new Layout(2, 1, 2, 2, "1f1b"), new Layout(1, 2, 1, 0, "gpipe")),
                Arguments.of(new Layout(2, 2, 2, 2, "gpipe"), new Layout(1, 1, 2, 0, "1f1b")),
                Arguments.of(new Layout(2, 2, 2, 3, "1f1b"), new Layout(1, 2, 2, 3, "gpipe")),
                Arguments.of(new Layout(1, 2, 2, 2, "1f1b"), new Layout(2, 1, 1, 0, "1f1b")),
                Arguments.of(new Layout(1, 1, 2, 3, "1f1b"), new Layout(1, 1, 1, 0, "1f1b")),
                Arguments.of(new Layout(1, 1, 1, 0, "1f1b"), new Layout(1, 1, 2, 1, "1f1b")),
                Arguments.of(new Layout(2, 1, 2, 0, "1f1b"), new Layout(2, 2, 2, 1, "gpipe")));
    }

    /**
     * Data-parallel processes each write their own shard (ZeRO slices, or an equal share of what they all hold),
     * each piece labelled with its global name, shape and region; one process writes a whole checkpoint. Either
     * way a run stopped under one layout continues under another as the uninterrupted single-device run does,
     * within the same tolerance.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("reshardings")
    void aCheckpointResumesUnderAnotherLayoutLikeTheUninterruptedRun(Layout before, Layout after) {
        String name = (before + "-to-" + after).replace(' ', '-');
        Recorded uninterrupted = EngineRuns.train(
                EngineRuns.withCheckpointEvery(new Layout(1, 1, 1, 0, "1f1b").spec(2 * STEPS), STEPS),
                tmp.resolve(name + "-uninterrupted"));
        Recorded firstHalf = EngineRuns.trainAsProcesses(
                EngineRuns.withCheckpointEvery(before.spec(2 * STEPS), STEPS),
                tmp.resolve(name + "-first"),
                Optional.empty(),
                done -> done == STEPS ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
        assertThat(firstHalf.result().finalStep()).isEqualTo(STEPS);
        CheckpointWritten written = firstHalf.result().lastCheckpoint().orElseThrow();
        assertThat(written.shards()).as("shards of the checkpoint").isEqualTo(before.processes());
        Path checkpoint = written.path();

        Recorded secondHalf = EngineRuns.trainAsProcesses(
                EngineRuns.withCheckpointEvery(after.spec(2 * STEPS), STEPS),
                tmp.resolve(name + "-second"),
                Optional.of(checkpoint),
                never());

        assertThat(secondHalf.losses()).hasSize(STEPS);
        for (int i = 0; i < STEPS; i++) {
            assertThat(secondHalf.losses().get(i))
                    .as("step %d", STEPS + i + 1)
                    .isCloseTo(uninterrupted.losses().get(STEPS + i), within(TOLERANCE));
        }
        double difference = maxAbsDifference(secondHalf.parameters(), uninterrupted.parameters());
        System.out.printf("%s -> %s: max |param difference| %.3g%n", before, after, difference);
        assertThat(difference).isLessThan(TOLERANCE);
    }

    private static StopSignal never() {
        return StopSignal.never();
    }
}
