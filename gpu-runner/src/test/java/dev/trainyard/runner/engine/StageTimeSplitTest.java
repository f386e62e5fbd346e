package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each stage's step splits into compute, bubble and communication on real libtorch pipelines: the parts add up to
 * the stage's wall time, the bubble shrinks as GPipe gets more micro-batches, and communication appears exactly
 * where collectives run. Figures are compared as sums over the steps after the first (which warms up libtorch),
 * with margins far from what the schedule implies, so a busy machine does not flip them.
 */
class StageTimeSplitTest {

    private static final int STEPS = 5;

    @TempDir
    Path tmp;

    @Test
    void computeBubbleAndCommunicationAddUpToEachStagesWallTime() {
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
        assertThat(Math.abs(unaccounted)).isLessThan(0.05 * wall);
    }

    @Test
    void gpipeWithOneMicroBatchWaitsFarLongerThanWithEight() {
        double one = bubbleShare(train(EngineRuns.withPipeline(EngineRuns.tinyGpt(STEPS, 0.0), 2, 1, "gpipe", false)));
        double eight =
                bubbleShare(train(EngineRuns.withPipeline(EngineRuns.tinyGpt(STEPS, 0.0), 2, 8, "gpipe", false)));

        System.out.printf("2 stages gpipe: bubble share %.3f with 1 micro-batch, %.3f with 8%n", one, eight);
        // (p - 1) / (m + p - 1): 1/2 against 1/9 for an ideal pipeline
        assertThat(one).isGreaterThan(0.3);
        assertThat(one).isGreaterThan(1.5 * eight);
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
        assertThat(Math.abs(sum(steps, StageTime::unaccountedSeconds))).isLessThan(0.05 * wall);
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
        assertThat(steps).hasSize(STEPS);
        return steps.subList(1, steps.size());
    }

    /** Bubble over wall time, summed over every stage of every step. */
    private static double bubbleShare(List<StepMetrics> steps) {
        return sum(steps, StageTime::bubbleSeconds) / sum(steps, StageTime::wallSeconds);
    }

    private static double sum(List<StepMetrics> steps, java.util.function.ToDoubleFunction<StageTime> part) {
        return steps.stream()
                .flatMap(m -> m.stageTimes().stream())
                .mapToDouble(part)
                .sum();
    }
}
