package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.EngineRuns.Recorded;
import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.SpecDocument;
import dev.trainyard.spec.TrainingSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline whose stages are spread over processes ("pipeline ranks", here sessions on threads of this JVM joined
 * through TCP stores and Gloo, as separate runners would be) trains bitwise like the same pipeline in one process:
 * each stage does the same arithmetic on the same tensors, activations and gradients cross the boundary exactly,
 * the gradient norm adds the same squares in the same order, and the loss comes from the last stage's process.
 */
class CrossProcessPipelineTest {

    private static final int STEPS = 4;

    @TempDir
    Path tmp;

    /** Rank 0's recording, and every rank's losses and gradient norms (they must agree). */
    private record Ranks(Recorded rankZero, List<List<Double>> losses, List<List<Double>> gradNorms) {}

    private static JobSpec spec(int stages, int microBatches, String schedule, boolean recompute) {
        return EngineRuns.withCheckpointEvery(
                EngineRuns.withPipeline(EngineRuns.tinyGpt(STEPS, 0.1), stages, microBatches, schedule, recompute), 2);
    }

    @Test
    void twoStagesOverTwoProcessesTrainBitwiseLikeOneProcessWithGpipeOneFOneBAndRecomputation() throws Exception {
        for (String schedule : List.of("gpipe", "1f1b")) {
            for (boolean recompute : schedule.equals("1f1b") ? List.of(false, true) : List.of(false)) {
                assertTwoProcessesTrainLikeOne(
                        spec(2, 4, schedule, recompute), schedule + (recompute ? "-recompute" : ""));
            }
        }
    }

    /**
     * Trains {@code spec} in one process and split over two, one process per stage group: both ranks report the
     * losses of the one process, the global gradient norm (with clipping acting), and rank 0 ends with the same
     * parameters bit for bit.
     */
    private void assertTwoProcessesTrainLikeOne(JobSpec spec, String name) throws Exception {
        Recorded together = EngineRuns.train(spec, tmp.resolve(name + "-together"));
        Ranks split = trainSplit(spec, new int[] {1, 1}, name, Optional.empty(), Duration.ofSeconds(60));

        assertThat(split.rankZero().losses()).as(name).hasSize(STEPS).isEqualTo(together.losses());
        assertThat(split.losses().get(1))
                .as(name + ": rank 1 reports the same loss")
                .isEqualTo(together.losses());
        // clipping must act for the global norm to be tested (either rank's own share would be smaller)
        assertThat(split.gradNorms().get(0)).anySatisfy(norm -> assertThat(norm).isGreaterThan(1.0));
        assertThat(split.gradNorms().get(0)).isEqualTo(split.gradNorms().get(1));
        assertThat(EngineRuns.bitwiseEqual(split.rankZero().parameters(), together.parameters()))
                .as(
                        name + ": max difference %s",
                        EngineRuns.maxAbsDifference(split.rankZero().parameters(), together.parameters()))
                .isTrue();
    }

    /** The same through the command line, in two JVMs, as two runners would start it. */
    @Test
    void twoStagesInTwoJvmsTrainBitwiseLikeOneProcess() throws Exception {
        JobSpec spec = spec(2, 4, "1f1b", false);
        Recorded together = EngineRuns.train(spec, tmp.resolve("jvm-together"));
        Path specFile = tmp.resolve("spec.json");
        Files.writeString(specFile, SpecDocument.toJson(spec));
        int port = StorePorts.free();
        List<Process> ranks = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            ranks.add(ChildJvm.start(
                    tmp.resolve("jvm" + rank + ".log"),
                    "train",
                    "--spec",
                    specFile.toString(),
                    "--out",
                    tmp.resolve("jvm" + rank).toString(),
                    "--devices",
                    "1",
                    "--threads-per-stage",
                    "1",
                    "--pp-rank",
                    Integer.toString(rank),
                    "--pp-stages",
                    rank + ":" + (rank + 1),
                    "--pp-store",
                    "127.0.0.1:" + port));
        }
        for (int rank = 0; rank < 2; rank++) {
            assertThat(ChildJvm.await(ranks.get(rank), tmp.resolve("jvm" + rank + ".log")))
                    .isZero();
        }
        Map<String, float[]> exported = EngineRuns.parametersIn(tmp.resolve("jvm0/model/model.safetensors"));
        assertThat(EngineRuns.bitwiseEqual(exported, together.parameters())).isTrue();
        assertThat(tmp.resolve("jvm1/model")).doesNotExist();
    }

    @Test
    void threeStagesOverTwoProcessesTrainAndEvaluateBitwiseLikeOneProcess() throws Exception {
        JobSpec spec = evaluatingEvery(spec(3, 4, "1f1b", false), 2);
        Recorded together = EngineRuns.train(spec, tmp.resolve("p3-together"));
        Ranks split = trainSplit(spec, new int[] {2, 1}, "p3", Optional.empty(), Duration.ofSeconds(60));

        assertThat(split.rankZero().losses()).hasSize(STEPS).isEqualTo(together.losses());
        // the evaluation loss comes from rank 1's last stage, reported where rank 0 reports it
        assertThat(split.rankZero().evalLosses()).hasSize(2).isEqualTo(together.evalLosses());
        assertThat(EngineRuns.bitwiseEqual(split.rankZero().parameters(), together.parameters()))
                .isTrue();
    }

    @Test
    void aCheckpointWrittenAcrossProcessesResumesInOneProcess() throws Exception {
        JobSpec spec = spec(2, 4, "1f1b", false);
        Ranks split = trainSplit(spec, new int[] {1, 1}, "split", Optional.empty(), Duration.ofSeconds(60));
        Path halfway = EngineRuns.collectStep(
                List.of(tmp.resolve("split-rank0"), tmp.resolve("split-rank1")), 2, tmp.resolve("split-collected"));
        assertThat(halfway.getFileName().toString()).contains(".shard-0-of-2.");

        // each rank wrote its stage's shard; together they resume in one process with both stages, as the split
        // run went on
        Recorded resumed = EngineRuns.train(spec, tmp.resolve("resumed-p2"), Optional.of(halfway), StopSignal.never());
        assertThat(resumed.losses()).isEqualTo(split.rankZero().losses().subList(2, STEPS));
        assertThat(EngineRuns.bitwiseEqual(
                        resumed.parameters(), split.rankZero().parameters()))
                .isTrue();

        // and on one stage, whose micro-batches add up the same gradients
        Recorded onOneStage = EngineRuns.train(
                spec(1, 4, "1f1b", false), tmp.resolve("resumed-p1"), Optional.of(halfway), StopSignal.never());
        assertThat(onOneStage.losses()).hasSize(STEPS - 2);
        assertThat(EngineRuns.maxAbsDifference(
                        onOneStage.parameters(), split.rankZero().parameters()))
                .isLessThan(1e-5);
    }

    /**
     * Two stages of two tensor-parallel ranks each, one stage per process: one copy of each activation and input
     * gradient crosses (the stage's ranks hold the same one), so every rank does the arithmetic it does in one
     * process and the run is bitwise the same.
     */
    @Test
    void tensorParallelStagesOverTwoProcessesTrainBitwiseLikeOneProcessWithGpipeAndOneFOneB() throws Exception {
        for (String schedule : List.of("gpipe", "1f1b")) {
            assertTwoProcessesTrainLikeOne(tensorParallelSpec(schedule), "t2p2-" + schedule);
        }
    }

    /**
     * The two processes' shards of a tensor-parallel run (each rank's slices joined into whole tensors) resume on
     * one device in one process. The split matmuls add in another order there, so the figures agree to rounding.
     */
    @Test
    void aTensorParallelCheckpointWrittenAcrossProcessesResumesOnOneDevice() throws Exception {
        JobSpec spec = tensorParallelSpec("1f1b");
        Ranks split = trainSplit(spec, new int[] {1, 1}, "t2p2", Optional.empty(), Duration.ofSeconds(60));
        Path halfway = EngineRuns.collectStep(
                List.of(tmp.resolve("t2p2-rank0"), tmp.resolve("t2p2-rank1")), 2, tmp.resolve("t2p2-collected"));
        assertThat(halfway.getFileName().toString()).contains(".shard-0-of-2.");

        Recorded onOneDevice = EngineRuns.train(
                EngineRuns.withCheckpointEvery(
                        EngineRuns.withTensorParallel(EngineRuns.tinyGpt(STEPS, 0.1), 1, 1, 4, "1f1b"), 2),
                tmp.resolve("t2p2-resumed-t1p1"),
                Optional.of(halfway),
                StopSignal.never());
        List<Double> expected = split.rankZero().losses().subList(2, STEPS);
        assertThat(onOneDevice.losses()).hasSize(STEPS - 2);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(onOneDevice.losses().get(i))
                    .isCloseTo(expected.get(i), org.assertj.core.data.Offset.offset(1e-5));
        }
        assertThat(EngineRuns.maxAbsDifference(
                        onOneDevice.parameters(), split.rankZero().parameters()))
                .isLessThan(1e-5);
    }

    private static JobSpec tensorParallelSpec(String schedule) {
        return EngineRuns.withCheckpointEvery(
                EngineRuns.withTensorParallel(EngineRuns.tinyGpt(STEPS, 0.1), 2, 2, 4, schedule), 2);
    }

    @Test
    void aStopAskedOfOneRankStopsEveryRankAfterTheSameStep() throws Exception {
        JobSpec spec = spec(2, 4, "1f1b", false);
        StopSignal stopAfterThree = step -> step >= 3 ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE;
        Ranks split = trainSplit(
                spec, new int[] {1, 1}, "stopped", Optional.empty(), Duration.ofSeconds(60), -1, stopAfterThree);

        assertThat(split.rankZero().result().outcome()).isEqualTo(TrainingResult.Outcome.STOPPED);
        assertThat(split.rankZero().result().finalStep()).isEqualTo(3);
        assertThat(split.losses().get(1)).hasSize(3);
        assertThat(split.rankZero().result().lastCheckpoint().orElseThrow().step())
                .isEqualTo(3);
        assertThat(split.rankZero().result().lastCheckpoint().orElseThrow().shards())
                .as("each rank writes its own shard")
                .isEqualTo(2);
    }

    @Test
    void aRankThatDiesLeavesItsNeighbourWithAPeerLostExceptionNotAHang() throws Exception {
        JobSpec spec = spec(2, 4, "1f1b", false);
        long start = System.nanoTime();
        ExecutionException failure = null;
        try {
            trainSplit(spec, new int[] {1, 1}, "dies", Optional.empty(), Duration.ofSeconds(5), 2, StopSignal.never());
        } catch (ExecutionException e) {
            failure = e;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(failure).as("the surviving rank failed").isNotNull();
        assertThat(PeerLostException.causedBy(failure)).as("cause: %s", failure).isTrue();
        assertThat(seconds).as("well before the test's 3 minutes").isLessThan(90);
    }

    private Ranks trainSplit(JobSpec spec, int[] stagesPerRank, String name, Optional<Path> resume, Duration timeout)
            throws Exception {
        return trainSplit(spec, stagesPerRank, name, resume, timeout, -1, StopSignal.never());
    }

    private static JobSpec evaluatingEvery(JobSpec spec, int every) {
        TrainingSpec t = spec.training();
        return spec.withTraining(new TrainingSpec(
                t.steps(),
                t.batchSize(),
                t.learningRate(),
                t.minLearningRate(),
                t.warmupSteps(),
                t.weightDecay(),
                t.gradClip(),
                t.seed(),
                every,
                t.precision(),
                t.divergenceFactor()));
    }

    /**
     * One session per pipeline rank, each on its own thread; rank {@code n - 1}'s listener throws after step
     * {@code dieAfterStep} when that is positive (its session closes, as a runner's process would end), and the
     * surviving rank's failure is returned as an {@link ExecutionException}. The last rank's stop signal is
     * {@code lastRankStop}; the others never ask to stop.
     */
    private Ranks trainSplit(
            JobSpec spec,
            int[] stagesPerRank,
            String name,
            Optional<Path> resume,
            Duration timeout,
            int dieAfterStep,
            StopSignal lastRankStop)
            throws Exception {
        int processes = stagesPerRank.length;
        int stages = spec.parallelism().stages();
        int port = StorePorts.free();
        List<List<Double>> losses = new ArrayList<>();
        List<List<Double>> gradNorms = new ArrayList<>();
        List<Double> evalLosses = new ArrayList<>();
        List<CompletableFuture<TrainingResult>> ranks = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(processes);
        int first = 0;
        for (int rank = 0; rank < processes; rank++) {
            List<Double> rankLosses = new ArrayList<>();
            List<Double> rankNorms = new ArrayList<>();
            losses.add(rankLosses);
            gradNorms.add(rankNorms);
            boolean dies = dieAfterStep > 0 && rank == processes - 1;
            boolean reportsForRankZero = rank == 0;
            TrainingListener recorder = new TrainingListener() {
                @Override
                public void onStep(StepMetrics metrics) {
                    rankLosses.add(metrics.loss());
                    rankNorms.add(metrics.gradNorm());
                    if (dies && metrics.step() == dieAfterStep) {
                        throw new IllegalStateException("this rank's runner went away");
                    }
                }

                @Override
                public void onEval(EvalMetrics metrics) {
                    if (reportsForRankZero) {
                        evalLosses.add(metrics.evalLoss());
                    }
                }
            };
            PipelineGroup group = new PipelineGroup(
                    rank, processes, first, first + stagesPerRank[rank], stages, "127.0.0.1", port, timeout);
            first += stagesPerRank[rank];
            TrainingRun run = TrainingRun.of(
                            spec,
                            stagesPerRank[rank] * spec.parallelism().tensorParallelOrDefault(),
                            tmp.resolve(name + "-rank" + rank))
                    .withThreadsPerStage(1)
                    .reportingTo(recorder)
                    .stoppingOn(rank == processes - 1 ? lastRankStop : StopSignal.never())
                    .asPipelineRank(group);
            TrainingRun configured = resume.map(run::resumingFrom).orElse(run);
            ranks.add(CompletableFuture.supplyAsync(() -> Trainer.train(configured, new TorchEngine()), threads));
        }
        try {
            if (dieAfterStep > 0) {
                // the surviving rank's own failure is what this run is about
                ranks.get(0).get(3, TimeUnit.MINUTES);
            }
            CompletableFuture.allOf(ranks.toArray(CompletableFuture[]::new)).get(3, TimeUnit.MINUTES);
        } finally {
            threads.shutdownNow();
        }
        TrainingResult rankZero = ranks.get(0).get();
        for (int rank = 1; rank < processes; rank++) {
            assertThat(ranks.get(rank).get().exportedModel()).isEmpty();
        }
        // a stopped run exports nothing: the ranks' shards of its last checkpoint hold the state
        List<Path> rankDirs = new ArrayList<>();
        for (int rank = 0; rank < processes; rank++) {
            rankDirs.add(tmp.resolve(name + "-rank" + rank));
        }
        Path weights = rankZero.exportedModel().isPresent()
                ? rankZero.exportedModel().get()
                : EngineRuns.collectStep(
                        rankDirs, rankZero.lastCheckpoint().orElseThrow().step(), tmp.resolve(name + "-collected"));
        Recorded recorded = new Recorded(rankZero, losses.get(0), evalLosses, EngineRuns.parametersIn(weights), null);
        return new Ranks(recorded, losses, gradNorms);
    }
}
