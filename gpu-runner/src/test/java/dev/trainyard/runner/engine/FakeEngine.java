package dev.trainyard.runner.engine;

import dev.trainyard.spec.MemoryEstimate;
import dev.trainyard.spec.StageRange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongFunction;
import java.util.function.LongToDoubleFunction;

/**
 * An engine without native code, for testing the training loop: its model is one float that every step folds
 * the step's batch into, so a run that resumes at the wrong step or data position ends with another value.
 * It records what the loop asked of it.
 */
final class FakeEngine implements TrainingEngine {

    /** What the other replicas ask for after each step ({@link EngineSession#agree} returns the largest). */
    LongFunction<StopRequest> peers = step -> StopRequest.CONTINUE;

    /** The loss of each step, by the step's index (0 for the first). */
    LongToDoubleFunction losses = step -> 1.0 / (step + 1);

    /** What each step reports as its stages' time split. */
    List<StageTime> stageTimes = List.of();

    float weight;
    final List<Long> trainedSteps = new ArrayList<>();
    final List<Long> optimizerSteps = new ArrayList<>();
    final List<Integer> batchHashes = new ArrayList<>();
    final List<Integer> batchRows = new ArrayList<>();
    final List<Long> askedToAgreeAfter = new ArrayList<>();
    int evaluations;
    boolean opened;
    CheckpointState restored;
    boolean closed;

    @Override
    public EngineSession open(TrainingRun run, TrainingData data, int threadsPerStage) {
        opened = true;
        return new Session(threadsPerStage);
    }

    private final class Session implements EngineSession {
        private final TrainingPlan plan;
        private long updates;

        Session(int threads) {
            StagePlan stage = new StagePlan(new StageRange(0, 0, 1), "fake", 1, new MemoryEstimate(4, 4, 8, 0));
            plan = new TrainingPlan(List.of(stage), PipelineSchedule.ONE_F_ONE_B, 1, false, threads, 1, 0);
        }

        @Override
        public TrainingPlan plan() {
            return plan;
        }

        @Override
        public void build() {}

        @Override
        public void restore(CheckpointState state) {
            restored = state;
            weight = state.parameters().get(0).data()[0];
            updates = (long) state.firstMoments().get(0).data()[0];
        }

        @Override
        public StepOutcome trainStep(Batch batch, StepParameters parameters) {
            int hash = Arrays.hashCode(((TabularBatch) batch).inputs());
            weight = weight * 0.5f + (hash % 1000) / 1000f + parameters.step();
            updates++;
            trainedSteps.add(parameters.step());
            optimizerSteps.add(parameters.optimizerStep());
            batchHashes.add(hash);
            batchRows.add(batch.rows());
            return new StepOutcome(
                    losses.applyAsDouble(parameters.step()), 0.5, List.of(0.0), 0, 0, List.of(0.0), stageTimes);
        }

        @Override
        public double evaluate(Batch batch) {
            evaluations++;
            return 1.0 / updates;
        }

        @Override
        public ModelState capture() {
            return new ModelState(
                    List.of(scalar("w", weight)), List.of(), List.of(scalar("w", updates)), List.of(scalar("w", 0)));
        }

        @Override
        public StopRequest agree(StopRequest local) {
            long step = trainedSteps.get(trainedSteps.size() - 1) + 1;
            askedToAgreeAfter.add(step);
            StopRequest peer = peers.apply(step);
            return peer.ordinal() > local.ordinal() ? peer : local;
        }

        @Override
        public Path export(Path directory) {
            try {
                Files.createDirectories(directory);
                return Files.writeString(directory.resolve("weights.txt"), Float.toString(weight));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static HostTensor scalar(String name, float value) {
        return new HostTensor(name, new long[] {1}, new float[] {value});
    }
}
