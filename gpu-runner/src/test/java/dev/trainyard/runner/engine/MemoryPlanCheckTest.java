package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.MemoryEstimate;
import dev.trainyard.spec.ProcessLayout;
import dev.trainyard.spec.SpecDocument;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory plan against what training holds (issue 14): for each layout, one step of a tiny GPT on CPU devices,
 * and every device's weights, gradients and AdamW state, measured from its tensors at the end of backward, within
 * 15% of the plan's figure for them. Data parallelism at ZeRO 0, 1 and 2 is checked the same way in
 * {@link ZeroShardingTest#eachRankHoldsHalfOfTheAdamWStateAtZeroOneAndTwo}, and at ZeRO 3 (gathered block by block,
 * its peak sampled after each block's backward) in {@link
 * ZeroShardingTest#betweenStepsEachZeroThreeProcessHoldsHalfOfTheParameters}. Activations are checked per device
 * from resident memory in child JVMs ({@link #eachDevicesActivationsAreWithinFifteenPercentOfThePlan}), and so is
 * the optimizer phase after backward, where it outweighs the activations, at ZeRO 0, 1 and 2 over two processes
 * ({@link #theWholeStepPeakIsWithinFifteenPercentOfThePlanWhereTheOptimizerPhaseDominates}).
 */
class MemoryPlanCheckTest {

    private static final double TOLERANCE = 0.15;

    @TempDir
    Path tmp;

    private List<DeviceMemory> measure(JobSpec spec, String name) {
        List<DeviceMemory> measured = new ArrayList<>();
        TrainingListener recorder = new TrainingListener() {
            @Override
            public void onMemory(long step, List<DeviceMemory> devices) {
                assertThat(step).isEqualTo(1);
                measured.addAll(devices);
            }
        };
        int stages =
                spec.parallelism().stages() == null ? 1 : spec.parallelism().stages();
        int devices = stages * spec.parallelism().tensorParallelOrDefault();
        Trainer.train(
                TrainingRun.of(spec, devices, tmp.resolve(name))
                        .withThreadsPerStage(1)
                        .reportingTo(recorder),
                new TorchEngine());
        assertThat(measured).as(name).hasSize(devices);
        // the figures, for the record (docs/design/engine.md quotes them)
        measured.forEach(d -> System.out.printf(
                "memory plan check %s: stage %d rank %d measured %d bytes, plan %d (%.3f); plan with activations %d%n",
                name,
                d.stage(),
                d.rank(),
                d.measuredStateBytes(),
                d.planStateBytes(),
                d.measuredOverPlan(),
                d.planBytes()));
        return measured;
    }

    private void assertWithinPlan(JobSpec spec, String name) {
        for (DeviceMemory device : measure(spec, name)) {
            assertThat(device.measuredStateBytes()).as("%s: %s", name, device).isPositive();
            assertThat(device.measuredOverPlan()).as("%s: %s", name, device).isBetween(1 - TOLERANCE, 1 + TOLERANCE);
            assertThat(device.planBytes()).as(name).isGreaterThan(device.planStateBytes());
        }
    }

    @Test
    void oneDevice() {
        assertWithinPlan(EngineRuns.withPipeline(EngineRuns.tinyGpt(1, 0.0), 1, 4, "1f1b", false), "p1");
    }

    @Test
    void twoStagesUnderGPipeAndOneFOneBWithFourMicroBatchesAndWithRecomputation() {
        JobSpec tiny = EngineRuns.tinyGpt(1, 0.0);
        assertWithinPlan(EngineRuns.withPipeline(tiny, 2, 4, "gpipe", false), "p2-gpipe");
        assertWithinPlan(EngineRuns.withPipeline(tiny, 2, 4, "1f1b", false), "p2-1f1b");
        assertWithinPlan(EngineRuns.withPipeline(tiny, 2, 4, "1f1b", true), "p2-recompute");
    }

    @Test
    void twoTensorParallelRanksEachHoldTheirShare() {
        List<DeviceMemory> split =
                measure(EngineRuns.withTensorParallel(EngineRuns.tinyGpt(1, 0.0), 2, 1, 4, "1f1b"), "t2");
        List<DeviceMemory> whole =
                measure(EngineRuns.withPipeline(EngineRuns.tinyGpt(1, 0.0), 1, 4, "1f1b", false), "t1");

        for (DeviceMemory rank : split) {
            assertThat(rank.measuredOverPlan()).as("t2: %s", rank).isBetween(1 - TOLERANCE, 1 + TOLERANCE);
            // split weights: a rank holds more than half the model (norms and biases are whole) but far from all
            assertThat(rank.measuredStateBytes()).isLessThan(whole.get(0).measuredStateBytes() * 3 / 4);
        }
    }

    /**
     * A GPT whose activations (tens of MiB per device) stand well above what a JVM's resident memory wobbles by. The
     * default checkpoint policy writes after step 1: its native copy of the state must be gone before the measured
     * step 2 starts, or its release during the step hides that much of the rise (0.82 of the plan for p2-1f1b rank 1,
     * whose state is about the 5 MB missing, when TrainingLoop did not wait for the write).
     */
    private static final String ACTIVATION_SPEC = """
            {"name": "activations",
             "model": {"type": "gpt", "layers": 4, "dModel": 128, "heads": 4, "seqLen": 128, "vocab": 128},
             "data": {"type": "arithmetic", "seed": 3, "evalFraction": 0.1},
             "training": {"steps": 2, "batchSize": 64, "seed": 11, "evalEvery": 0},
             "parallelism": {"stages": %d, "tensorParallel": %d, "microBatches": 8, "schedule": "%s",
                             "recompute": %s, "balance": "params"}}
            """;

    /** One process's line from {@link ConsoleListener#onProcessMemory}. */
    private static final Pattern ACTIVATIONS =
            Pattern.compile("activations: (\\d+) device\\(s\\), measured (-?\\d+) bytes, plan (\\d+) bytes");

    /**
     * Each layout trains two steps in child JVMs whose resident memory follows their live tensors
     * ({@link ChildJvm#startMeasuringMemory}); a two-stage pipeline runs as two pipeline ranks, one JVM each (as on
     * two runners), so that each process's rise in the second step is its one device's activations. The tensor-parallel
     * layout's two ranks share their process and have the same plan: their sum is checked.
     */
    @Test
    void eachDevicesActivationsAreWithinFifteenPercentOfThePlan() throws Exception {
        assertActivationsWithinPlan("p1", List.of(startLayout("p1", 1, 1, "1f1b", false, -1, 0)));
        for (String layout : List.of("p2-gpipe", "p2-1f1b", "p2-recompute")) {
            String schedule = layout.equals("p2-gpipe") ? "gpipe" : "1f1b";
            int port = StorePorts.free();
            List<Process> ranks = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                ranks.add(startLayout(layout, 2, 1, schedule, layout.equals("p2-recompute"), rank, port));
            }
            assertActivationsWithinPlan(layout, ranks);
        }
        assertActivationsWithinPlan("t2", List.of(startLayout("t2", 1, 2, "1f1b", false, -1, 0)));
    }

    /**
     * Waits for a layout's processes and checks each one's activations. One layout at a time: under heavier
     * contention more gradients reached a pipeline rank before it asked for them, and Gloo holds such early messages
     * in buffers of its own, which the plan does not count (stage 0 with recomputation read 1.12 to 1.20 of the plan
     * with all layouts at once, 1.09 alone).
     */
    private void assertActivationsWithinPlan(String layout, List<Process> processes) throws Exception {
        for (int rank = 0; rank < processes.size(); rank++) {
            Path log = tmp.resolve(layout + "-" + rank + ".log");
            assertThat(ChildJvm.await(processes.get(rank), log)).as(layout).isZero();
            Matcher m = ACTIVATIONS.matcher(Files.readString(log));
            assertThat(m.find())
                    .as("%s rank %d reports its activations", layout, rank)
                    .isTrue();
            long measured = Long.parseLong(m.group(2));
            long plan = Long.parseLong(m.group(3));
            System.out.printf(
                    "activation check %s rank %d (%s device(s)): measured %d bytes, plan %d (%.3f)%n",
                    layout, rank, m.group(1), measured, plan, (double) measured / plan);
            assertThat((double) measured / plan)
                    .as("%s rank %d: measured %d bytes, plan %d", layout, rank, measured, plan)
                    .isBetween(1 - TOLERANCE, 1 + TOLERANCE);
        }
    }

    /**
     * A GPT wide enough and fed few enough rows that the optimizer phase, not the activations, sets the step's peak
     * (issue 14): 9.6M parameters in three gradient buckets (4.0M, 3.4M and 2.2M elements), 2 rows of 32 positions
     * per replica. At ZeRO 0 and 1 the rise also holds a few MB that the plan does not count (1.3 to 4.4 MB measured,
     * left behind by backward, which adds into the kept gradients); the update's 38 MB of AdamW temporaries at ZeRO 0
     * keep that inside the tolerance. (A wider model's export overflows the child JVM's fixed 256 MiB heap.)
     */
    private static final String OPTIMIZER_PHASE_SPEC = """
            {"name": "optimizer-phase",
             "model": {"type": "gpt", "layers": 3, "dModel": 512, "heads": 4, "seqLen": 32, "vocab": 128},
             "data": {"type": "arithmetic", "seed": 3, "evalFraction": 0.1},
             "training": {"steps": 2, "batchSize": 4, "seed": 11, "evalEvery": 0},
             "parallelism": {"microBatches": 1, "dataParallel": 2, "zero": %d, "balance": "params"}}
            """;

    /**
     * Two data-parallel processes (one device each, as on two runners) at ZeRO 0, 1 and 2: each one's resident rise
     * over the whole second step, through the gradient exchange and the update, is within 15% of the plan's peak
     * above the training state, which here is the optimizer phase's: AdamW's temporaries, ZeRO's gradient slices
     * and one bucket's flat buffers. At ZeRO 2 the step also allocates again the gradients released after the
     * previous step's reduce-scatter, which the state between steps lacks: the rise counts them on top.
     */
    @Test
    void theWholeStepPeakIsWithinFifteenPercentOfThePlanWhereTheOptimizerPhaseDominates() throws Exception {
        SoftAssertions softly = new SoftAssertions();
        for (int zero = 0; zero <= 2; zero++) {
            String layout = "d2-zero" + zero;
            JobSpec spec = SpecDocument.parseForTraining(OPTIMIZER_PHASE_SPEC.formatted(zero));
            MemoryEstimate plan = new ProcessLayout(2, 1).perStage(spec, 1).get(0);
            long released = zero == 2 ? plan.gradientBytes() : 0;
            System.out.printf("optimizer phase %s: plan %s%n", layout, plan);
            int port = StorePorts.free();
            List<Process> ranks = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                ranks.add(startReplica(layout, rank, port, OPTIMIZER_PHASE_SPEC.formatted(zero)));
            }
            for (int rank = 0; rank < 2; rank++) {
                long[] rise = awaitRise(layout, rank, ranks.get(rank));
                long measured = rise[0];
                long expected = plan.totalBytes() - plan.stateBytes() + released;
                // the engine's own plan for the process, as it reports it, is the one checked here
                softly.assertThat(rise[1])
                        .as("%s rank %d: the engine's plan", layout, rank)
                        .isEqualTo(expected - released);
                System.out.printf(
                        "optimizer phase check %s rank %d: step rise %d bytes, plan %d (activations %d, step extras"
                                + " %d, released gradients %d) (%.3f)%n",
                        layout,
                        rank,
                        measured,
                        expected,
                        plan.activationBytes(),
                        plan.optimizerStepBytes(),
                        released,
                        (double) measured / expected);
                softly.assertThat((double) measured / expected)
                        .as("%s rank %d: step rise %d bytes, plan %d", layout, rank, measured, expected)
                        .isBetween(1 - TOLERANCE, 1 + TOLERANCE);
            }
        }
        softly.assertAll();
    }

    /** Waits for one process and reads its second step's resident rise and its plan above the state from its log. */
    private long[] awaitRise(String layout, int rank, Process process) throws Exception {
        Path log = tmp.resolve(layout + "-" + rank + ".log");
        assertThat(ChildJvm.await(process, log)).as(layout).isZero();
        Matcher m = ACTIVATIONS.matcher(Files.readString(log));
        assertThat(m.find())
                .as("%s rank %d reports its step's rise", layout, rank)
                .isTrue();
        return new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3))};
    }

    /** Data-parallel rank {@code rank} of two, one device, measuring its resident memory. */
    private Process startReplica(String name, int rank, int port, String specJson) throws IOException {
        Path spec = tmp.resolve(name + ".json");
        Files.writeString(spec, specJson);
        return ChildJvm.startMeasuringMemory(
                tmp.resolve(name + "-" + rank + ".log"),
                "train",
                "--spec",
                spec.toString(),
                "--out",
                tmp.resolve(name + "-" + rank).toString(),
                "--devices",
                "1",
                "--threads-per-stage",
                "1",
                "--dp-rank",
                Integer.toString(rank),
                "--dp-store",
                "127.0.0.1:" + port);
    }

    /** One process of a layout; {@code rank} -1 for a layout that runs in one process. */
    private Process startLayout(
            String name, int stages, int tensorParallel, String schedule, boolean recompute, int rank, int port)
            throws IOException {
        Path spec = tmp.resolve(name + ".json");
        Files.writeString(spec, ACTIVATION_SPEC.formatted(stages, tensorParallel, schedule, recompute));
        List<String> args = new ArrayList<>(List.of(
                "train",
                "--spec",
                spec.toString(),
                "--out",
                tmp.resolve(name + "-" + Math.max(0, rank)).toString(),
                "--devices",
                Integer.toString(rank < 0 ? stages * tensorParallel : 1),
                "--threads-per-stage",
                "1"));
        if (rank >= 0) {
            args.addAll(List.of(
                    "--pp-rank",
                    Integer.toString(rank),
                    "--pp-stages",
                    rank + ":" + (rank + 1),
                    "--pp-store",
                    "127.0.0.1:" + port));
        }
        return ChildJvm.startMeasuringMemory(
                tmp.resolve(name + "-" + Math.max(0, rank) + ".log"), args.toArray(String[]::new));
    }
}
