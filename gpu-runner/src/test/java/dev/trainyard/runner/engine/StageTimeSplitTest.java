package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ParallelismSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each stage's step splits into compute, bubble and communication on real libtorch pipelines: the parts cover the
 * stage's step (the stopwatch charges every instant to one part, so this checks that no part is counted twice or
 * left out, e.g. a collective's time inside compute), the bubble shrinks as GPipe gets more micro-batches of the
 * same size, and communication appears exactly where collectives run (tensor-parallel all-reduces, data-parallel
 * gradient averaging between two ranks in this JVM). Figures are sums over the steps after the first (which warms
 * up libtorch), with margins far from what the schedule implies, so a busy machine does not flip them.
 */
class StageTimeSplitTest {

    private static final int STEPS = 5;

    /**
     * Where the bubble is compared, each run's median over its steps: on a loaded machine a stage also waits while
     * its neighbour is descheduled, which the split rightly counts as bubble but which is noise to the schedule's.
     */
    private static final int BUBBLE_STEPS = 9;

    @TempDir
    Path tmp;

    @Test
    void computeBubbleAndCommunicationCoverEachStagesStep() {
        List<StepMetrics> steps = train(EngineRuns.withPipeline(EngineRuns.tinyGpt(STEPS, 0.0), 2, 4, "gpipe", false));

        for (StepMetrics m : steps) {
            assertThat(m.stageTimes()).hasSize(2);
            for (StageTime t : m.stageTimes()) {
                assertThat(t.computeSeconds()).isPositive();
                assertThat(t.bubbleSeconds()).isPositive();
                assertThat(t.communicationSeconds())
                        .as("one process, no tensor parallelism: no collective runs")
                        .isZero();
                assertThat(t.wallSeconds())
                        .as("a stage's step lies within the loop's step")
                        .isLessThanOrEqualTo(m.stepSeconds());
            }
        }
        double wall = sum(steps, StageTime::wallSeconds);
        double unaccounted = sum(steps, StageTime::unaccountedSeconds);
        System.out.printf("2 stages gpipe m=4: unaccounted %.3g s of %.3g s stage wall%n", unaccounted, wall);
        assertThat(Math.abs(unaccounted)).isLessThan(1e-6 * wall);
    }

    @Test
    void gpipeWithOneMicroBatchWaitsFarLongerThanWithEight() {
        // Micro-batches of 64 rows in both runs, stages cut by measured time: the work between hand-offs is the same,
        // outweighs the per-op overhead and the fixed per-step work (norms, AdamW), and the two stages take about as
        // long, so what remains is the schedule's own bubble.
        JobSpec tiny = EngineRuns.tinyGpt(BUBBLE_STEPS, 0.0);
        double one =
                medianBubbleShare(train(gpipe(tiny.withTraining(tiny.training().withBatchSize(64)), 1)));
        double eight =
                medianBubbleShare(train(gpipe(tiny.withTraining(tiny.training().withBatchSize(512)), 8)));

        System.out.printf("2 stages gpipe: median bubble share %.3f with 1 micro-batch, %.3f with 8%n", one, eight);
        // (p - 1) / (m + p - 1): 1/2 against 1/9 for an ideal pipeline. Measured here (2 cores shared with other
        // builds) about 0.4 against 0.28: with 8 micro-batches each hand-off also waits for the neighbour thread to
        // get a core, so the margin asked for is far smaller than the ideal one (a timing test on shared cores must
        // not ask for more than the schedule's structure guarantees).
        assertThat(one).isGreaterThan(0.25);
        assertThat(one).isGreaterThan(eight);
    }

    private static JobSpec gpipe(JobSpec spec, int microBatches) {
        return spec.withParallelism(new ParallelismSpec(2, microBatches, "gpipe", false, 1, "time"));
    }

    @Test
    void tensorParallelAllReducesCountAsCommunicationNotCompute() {
        List<StepMetrics> steps = train(EngineRuns.withTensorParallel(EngineRuns.tinyGpt(STEPS, 0.0), 2, 1, 2, "1f1b"));

        for (StepMetrics m : steps) {
            assertThat(m.stageTimes())
                    .singleElement()
                    .satisfies(t -> assertThat(t.communicationSeconds()).isPositive());
        }
        double wall = sum(steps, StageTime::wallSeconds);
        assertThat(Math.abs(sum(steps, StageTime::unaccountedSeconds))).isLessThan(1e-6 * wall);
    }

    @Test
    void dataParallelGradientAveragingCountsAsCommunication() throws Exception {
        JobSpec spec =
                EngineRuns.tinyGpt(STEPS, 0.0).withParallelism(new ParallelismSpec(2, 2, "1f1b", false, 2, "params"));
        int port = StorePorts.free();
        List<StepMetrics> rankZero = new java.util.concurrent.CopyOnWriteArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<CompletableFuture<TrainingResult>> ranks = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                int r = rank;
                TrainingRun run = TrainingRun.of(spec, 2, tmp.resolve("dp-rank" + rank))
                        .withThreadsPerStage(1)
                        .asReplica(
                                new DataParallelGroup(rank, 2, rank, 1, 2, "127.0.0.1", port, Duration.ofSeconds(90)))
                        .reportingTo(new TrainingListener() {
                            @Override
                            public void onStep(StepMetrics metrics) {
                                if (r == 0) {
                                    rankZero.add(metrics);
                                }
                            }
                        });
                ranks.add(CompletableFuture.supplyAsync(() -> Trainer.train(run, new TorchEngine()), threads));
            }
            CompletableFuture.allOf(ranks.toArray(CompletableFuture[]::new)).get(3, TimeUnit.MINUTES);
        } finally {
            threads.shutdownNow();
        }

        List<StepMetrics> steps = rankZero.subList(1, rankZero.size());
        for (StepMetrics m : steps) {
            assertThat(m.stageTimes())
                    .hasSize(2)
                    .allSatisfy(t -> assertThat(t.communicationSeconds())
                            .as("each stage averages its gradients with the other rank")
                            .isPositive());
        }
        double wall = sum(steps, StageTime::wallSeconds);
        assertThat(Math.abs(sum(steps, StageTime::unaccountedSeconds))).isLessThan(1e-6 * wall);
    }

    /** The steps after the first, as the listener heard them. */
    private List<StepMetrics> train(JobSpec spec) {
        List<StepMetrics> steps = new ArrayList<>();
        TrainingListener recorder = new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                steps.add(metrics);
            }
        };
        int devices = spec.parallelism().stages() * spec.parallelism().tensorParallelOrDefault();
        Path out = tmp.resolve("run" + spec.parallelism().hashCode());
        Trainer.train(
                TrainingRun.of(spec, devices, out).withThreadsPerStage(1).reportingTo(recorder), new TorchEngine());
        assertThat(steps).hasSize(spec.training().steps().intValue());
        return steps.subList(1, steps.size());
    }

    /** The median, over the steps, of a step's bubble over its wall time, summed over its stages. */
    private static double medianBubbleShare(List<StepMetrics> steps) {
        double[] shares = steps.stream()
                .mapToDouble(m -> sum(List.of(m), StageTime::bubbleSeconds) / sum(List.of(m), StageTime::wallSeconds))
                .sorted()
                .toArray();
        return shares[shares.length / 2];
    }

    private static double sum(List<StepMetrics> steps, java.util.function.ToDoubleFunction<StageTime> part) {
        return steps.stream()
                .flatMap(m -> m.stageTimes().stream())
                .mapToDouble(part)
                .sum();
    }
}
