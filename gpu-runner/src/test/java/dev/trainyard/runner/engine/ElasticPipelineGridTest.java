package dev.trainyard.runner.engine;

import static dev.trainyard.runner.engine.EngineRuns.maxAbsDifference;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An elastic p2 x d2 job running short on one cut replica: a grid of 2 pipeline ranks x 1 replica process (sessions
 * on threads of this JVM, as two runners would be), each process holding both of the spec's replicas
 * ({@link DataParallelGroup#ofGrid}) and so training the whole global batch's rows. It must compute what the full
 * p2 x d2 grid of 4 processes computes, within {@value #TOLERANCE} (one forward over both replicas' rows instead of
 * two averaged means: the same mean gradient, rounded differently), and a checkpoint of the 4 processes must resume
 * on the 2 and continue like the uninterrupted run.
 */
class ElasticPipelineGridTest {

    private static final int STEPS = 4;
    private static final int MICRO_BATCHES = 2;
    private static final double TOLERANCE = 1e-4;
    private static final int[] ONE_STAGE_EACH = {0, 1, 2};

    @TempDir
    static Path tmp;

    private static JobSpec spec(int zero, int steps) {
        return EngineRuns.withCheckpointEvery(
                EngineRuns.withLayout(EngineRuns.tinyGpt(steps, 0.0), 1, 2, 2, zero, MICRO_BATCHES, "1f1b"), STEPS);
    }

    @ParameterizedTest(name = "zero{0}")
    @ValueSource(ints = {0, 1})
    void oneCutReplicaOfATwoReplicaSpecTrainsLikeTheFullGrid(int zero) throws Exception {
        JobSpec spec = spec(zero, STEPS);
        Grid full = trainOnGrid(spec, 2, tmp.resolve("full-zero" + zero), Optional.empty(), StopSignal.never());
        Grid shortGrid = trainOnGrid(spec, 1, tmp.resolve("short-zero" + zero), Optional.empty(), StopSignal.never());

        assertThat(shortGrid.losses()).as("every process of the short grid").hasSize(2);
        for (List<Double> losses : shortGrid.losses()) {
            assertThat(losses).hasSize(STEPS);
            for (int i = 0; i < STEPS; i++) {
                assertThat(losses.get(i))
                        .as("step %d", i + 1)
                        .isCloseTo(full.losses().get(0).get(i), within(TOLERANCE));
            }
        }
        assertThat(shortGrid.parameters()).isNotEmpty();
        double difference = maxAbsDifference(shortGrid.parameters(), full.parameters());
        // the figure, for the record (docs/design/engine.md quotes it)
        System.out.printf(
                "one cut replica against the full grid, zero %d: parameters differ by %.3g at most%n",
                zero, difference);
        assertThat(difference).isLessThan(TOLERANCE);
    }

    @Test
    void aCheckpointOfTheFullGridResumesOnOneCutReplica() throws Exception {
        int zero = 1;
        Grid uninterrupted =
                trainOnGrid(spec(zero, 2 * STEPS), 2, tmp.resolve("whole-run"), Optional.empty(), StopSignal.never());
        StopSignal stopHalfway = done -> done == STEPS ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE;
        Path firstHalf = tmp.resolve("first-half");
        Grid first = trainOnGrid(spec(zero, 2 * STEPS), 2, firstHalf, Optional.empty(), stopHalfway);
        assertThat(first.rankZero().lastCheckpoint().orElseThrow().shards()).isEqualTo(4);
        List<Path> dirs = new ArrayList<>();
        for (int process = 0; process < 4; process++) {
            dirs.add(firstHalf.resolve("process" + process));
        }
        Path shards = EngineRuns.collectStep(dirs, STEPS, firstHalf.resolve("collected"));

        Grid second = trainOnGrid(
                spec(zero, 2 * STEPS), 1, tmp.resolve("second-half"), Optional.of(shards), StopSignal.never());

        assertThat(second.losses().get(0)).hasSize(STEPS);
        for (int i = 0; i < STEPS; i++) {
            assertThat(second.losses().get(0).get(i))
                    .as("step %d", STEPS + i + 1)
                    .isCloseTo(uninterrupted.losses().get(0).get(STEPS + i), within(TOLERANCE));
        }
        assertThat(maxAbsDifference(second.parameters(), uninterrupted.parameters()))
                .isLessThan(TOLERANCE);
    }

    /** Process 0's result and exported parameters, and every process's losses. */
    private record Grid(TrainingResult rankZero, Map<String, float[]> parameters, List<List<Double>> losses) {}

    /** One session per process of a p2 grid of {@code replicas} replica processes for the spec's 2 replicas. */
    private static Grid trainOnGrid(JobSpec spec, int replicas, Path out, Optional<Path> resume, StopSignal stop)
            throws Exception {
        int[] pipelinePorts = new int[replicas];
        for (int r = 0; r < replicas; r++) {
            pipelinePorts[r] = StorePorts.free();
        }
        ProcessGrid grid = new ProcessGrid(
                2,
                replicas,
                ONE_STAGE_EACH,
                "127.0.0.1",
                pipelinePorts,
                new int[] {StorePorts.free(), StorePorts.free()},
                Duration.ofSeconds(60));
        List<List<Double>> losses = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(grid.processes());
        List<CompletableFuture<TrainingResult>> processes = new ArrayList<>();
        for (int process = 0; process < grid.processes(); process++) {
            List<Double> processLosses = new ArrayList<>();
            losses.add(processLosses);
            TrainingListener recorder = new TrainingListener() {
                @Override
                public void onStep(StepMetrics metrics) {
                    processLosses.add(metrics.loss());
                }
            };
            DataParallelGroup group =
                    grid.replicasOf(process, spec.parallelism().dataParallel());
            assertThat(group.localReplicas()).isEqualTo(2 / replicas);
            TrainingRun run = TrainingRun.of(spec, 1, out.resolve("process" + process))
                    .withThreadsPerStage(1)
                    .reportingTo(recorder)
                    .stoppingOn(process == grid.processes() - 1 ? stop : StopSignal.never())
                    .asReplica(group)
                    .asPipelineRank(grid.pipelineOf(process));
            TrainingRun configured = resume.map(run::resumingFrom).orElse(run);
            processes.add(CompletableFuture.supplyAsync(() -> Trainer.train(configured, new TorchEngine()), threads));
        }
        try {
            CompletableFuture.allOf(processes.toArray(CompletableFuture[]::new)).get(3, TimeUnit.MINUTES);
        } finally {
            threads.shutdownNow();
        }
        TrainingResult zero = processes.get(0).get();
        Map<String, float[]> parameters =
                zero.exportedModel().map(EngineRuns::parametersIn).orElse(Map.of());
        return new Grid(zero, parameters, losses);
    }
}
