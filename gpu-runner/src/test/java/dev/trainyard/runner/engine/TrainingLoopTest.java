package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.spec.CheckpointPolicy;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ParallelismSpec;
import dev.trainyard.spec.SpecDocument;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop's cadence, stops, resumption and reports, on an engine without native code. */
class TrainingLoopTest {

    @TempDir
    Path tmp;

    /** Everything a listener heard, in the order it heard it (checkpoints arrive from the writer thread). */
    private static final class Heard implements TrainingListener {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        final List<Long> steps = Collections.synchronizedList(new ArrayList<>());
        final List<Long> evals = Collections.synchronizedList(new ArrayList<>());
        final List<CheckpointWritten> checkpoints = Collections.synchronizedList(new ArrayList<>());
        final List<StepMetrics> stepMetrics = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onPlan(TrainingPlan plan) {
            events.add("plan");
        }

        @Override
        public void onStep(StepMetrics metrics) {
            steps.add(metrics.step());
            stepMetrics.add(metrics);
            events.add("step " + metrics.step());
        }

        @Override
        public void onEval(EvalMetrics metrics) {
            evals.add(metrics.step());
            events.add("eval " + metrics.step());
        }

        @Override
        public void onCheckpoint(CheckpointWritten checkpoint) {
            checkpoints.add(checkpoint);
            events.add("checkpoint " + checkpoint.step());
        }

        @Override
        public void onLog(String line) {
            events.add("log " + line);
        }

        List<Long> checkpointSteps() {
            return checkpoints.stream().map(CheckpointWritten::step).toList();
        }
    }

    /** A checkpoint interval of 0 (only at the end and on request) is the engine's own, not a document's. */
    private static JobSpec spec(int steps, int evalEvery, int checkpointEvery, int keepLast) {
        return SpecDocument.parseForTraining("""
        {"name": "fake",
         "model": {"type": "mlp", "inputs": 4, "hidden": [8], "outputs": 2},
         "data": {"type": "synthetic-tabular", "seed": 3, "rows": 512},
         "training": {"steps": %d, "batchSize": 8, "seed": 5, "evalEvery": %d},
         "parallelism": {"microBatches": 1}}
        """.formatted(steps, evalEvery))
                .withCheckpoint(new CheckpointPolicy(checkpointEvery, keepLast, false));
    }

    private TrainingResult train(JobSpec spec, FakeEngine engine, Heard heard, StopSignal stop, Path out) {
        return Trainer.train(TrainingRun.of(spec, 1, out).reportingTo(heard).stoppingOn(stop), engine);
    }

    private static StopSignal after(long step, StopRequest request) {
        return completed -> completed == step ? request : StopRequest.CONTINUE;
    }

    @Test
    void evaluatesEveryEvalEveryStepsAndAfterTheLastStep() {
        FakeEngine engine = new FakeEngine();
        Heard heard = new Heard();

        TrainingResult result = train(spec(10, 3, 0, 3), engine, heard, StopSignal.never(), tmp);

        assertThat(heard.evals).containsExactly(3L, 6L, 9L, 10L);
        assertThat(engine.evaluations)
                .as("each evaluation averages the fixed held-out batches")
                .isEqualTo(4 * 4);
        assertThat(result.lastEvalLoss()).isEqualTo(1.0 / 10);
    }

    @Test
    void checkpointsOnItsCadenceAndAtTheEndKeepingTheLastOnes() {
        FakeEngine engine = new FakeEngine();
        Heard heard = new Heard();

        TrainingResult result = train(spec(10, 3, 4, 2), engine, heard, StopSignal.never(), tmp);

        assertThat(heard.checkpointSteps()).containsExactly(4L, 8L, 10L);
        assertThat(new CheckpointStore(tmp.resolve("checkpoints")).completeCheckpoints())
                .extracting(p -> CheckpointStore.load(p).step())
                .containsExactly(8L, 10L);
        assertThat(result.outcome()).isEqualTo(TrainingResult.Outcome.COMPLETED);
        assertThat(result.lastCheckpoint()).map(CheckpointWritten::step).contains(10L);
        assertThat(result.exportedModel()).map(p -> p.getFileName().toString()).contains("weights.txt");
        assertThat(engine.closed).isTrue();
    }

    @Test
    void aCheckpointCarriesTheEvalLossOfTheLastEvaluationBeforeIt() {
        Heard heard = new Heard();

        train(spec(10, 3, 4, 5), new FakeEngine(), heard, StopSignal.never(), tmp);

        // evaluations after steps 3, 6, 9 and 10; the fake's eval loss is 1 / steps trained
        assertThat(heard.checkpoints)
                .extracting(CheckpointWritten::evalLoss)
                .containsExactly(1.0 / 3, 1.0 / 6, 1.0 / 10);
    }

    @Test
    void aCheckpointBeforeAnyEvaluationHasNoEvalLoss() {
        Heard heard = new Heard();

        train(spec(4, 0, 2, 5), new FakeEngine(), heard, StopSignal.never(), tmp);

        assertThat(heard.checkpoints).extracting(CheckpointWritten::evalLoss).allMatch(loss -> Double.isNaN(loss));
    }

    @Test
    void theLastStepOnTheCadenceIsCheckpointedOnce() {
        Heard heard = new Heard();

        train(spec(8, 0, 4, 5), new FakeEngine(), heard, StopSignal.never(), tmp);

        assertThat(heard.checkpointSteps()).containsExactly(4L, 8L);
    }

    @Test
    void aStopWithCheckpointWritesOneOfTheFinishedStepAndReturnsWithoutExport() {
        FakeEngine engine = new FakeEngine();
        Heard heard = new Heard();

        TrainingResult result = train(spec(10, 0, 0, 3), engine, heard, after(5, StopRequest.CHECKPOINT_AND_STOP), tmp);

        assertThat(result.outcome()).isEqualTo(TrainingResult.Outcome.STOPPED);
        assertThat(result.finalStep()).isEqualTo(5);
        assertThat(engine.trainedSteps).hasSize(5);
        assertThat(heard.checkpointSteps()).containsExactly(5L);
        assertThat(result.lastCheckpoint()).map(CheckpointWritten::step).contains(5L);
        assertThat(result.exportedModel()).isEmpty();
        assertThat(heard.events).contains("log stopped after step 5 (CHECKPOINT_AND_STOP)");
    }

    @Test
    void aStopWithCheckpointRightAfterAPeriodicOneDoesNotWriteItTwice() {
        Heard heard = new Heard();

        train(spec(10, 0, 4, 3), new FakeEngine(), heard, after(4, StopRequest.CHECKPOINT_AND_STOP), tmp);

        assertThat(heard.checkpointSteps()).containsExactly(4L);
    }

    @Test
    void aStopWithoutCheckpointWritesNone() {
        FakeEngine engine = new FakeEngine();
        Heard heard = new Heard();

        TrainingResult result = train(spec(10, 0, 0, 3), engine, heard, after(5, StopRequest.STOP), tmp);

        assertThat(result.outcome()).isEqualTo(TrainingResult.Outcome.STOPPED);
        assertThat(result.finalStep()).isEqualTo(5);
        assertThat(heard.checkpoints).isEmpty();
        assertThat(result.lastCheckpoint()).isEmpty();
    }

    @Test
    void aPeersStopRequestStopsThisReplicaAtTheSameStep() {
        FakeEngine engine = new FakeEngine();
        engine.peers = step -> step == 3 ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE;
        Heard heard = new Heard();

        TrainingResult result = train(spec(10, 0, 0, 3), engine, heard, StopSignal.never(), tmp);

        assertThat(result.outcome()).isEqualTo(TrainingResult.Outcome.STOPPED);
        assertThat(result.finalStep()).isEqualTo(3);
        assertThat(heard.checkpointSteps()).containsExactly(3L);
    }

    @Test
    void theStopSignalIsAskedAfterEveryStepButTheLast() {
        FakeEngine engine = new FakeEngine();
        List<Long> asked = new ArrayList<>();
        StopSignal stopAtTheEnd = completed -> {
            asked.add(completed);
            return completed >= 4 ? StopRequest.STOP : StopRequest.CONTINUE;
        };

        TrainingResult result = train(spec(4, 0, 0, 3), engine, new Heard(), stopAtTheEnd, tmp);

        assertThat(asked).containsExactly(1L, 2L, 3L);
        assertThat(engine.askedToAgreeAfter).containsExactly(1L, 2L, 3L);
        assertThat(result.outcome()).isEqualTo(TrainingResult.Outcome.COMPLETED);
    }

    @Test
    void aResumedRunContinuesFromTheCheckpointsStepAndDataPosition() {
        FakeEngine whole = new FakeEngine();
        train(spec(10, 0, 4, 5), whole, new Heard(), StopSignal.never(), tmp.resolve("whole"));
        FakeEngine interrupted = new FakeEngine();
        TrainingResult stopped = train(
                spec(10, 0, 4, 5),
                interrupted,
                new Heard(),
                after(6, StopRequest.CHECKPOINT_AND_STOP),
                tmp.resolve("interrupted"));

        FakeEngine resumedEngine = new FakeEngine();
        Heard heard = new Heard();
        TrainingRun run = TrainingRun.of(spec(10, 0, 4, 5), 1, tmp.resolve("resumed"))
                .reportingTo(heard)
                .resumingFrom(stopped.lastCheckpoint().orElseThrow().path());
        TrainingResult resumed = Trainer.train(run, resumedEngine);

        assertThat(resumedEngine.restored.step()).isEqualTo(6);
        assertThat(resumedEngine.trainedSteps).containsExactly(6L, 7L, 8L, 9L);
        assertThat(resumedEngine.optimizerSteps).containsExactly(7L, 8L, 9L, 10L);
        assertThat(heard.steps).containsExactly(7L, 8L, 9L, 10L);
        assertThat(resumedEngine.batchHashes)
                .as("the batches the uninterrupted run saw after step 6")
                .isEqualTo(whole.batchHashes.subList(6, 10));
        assertThat(Float.floatToIntBits(resumedEngine.weight)).isEqualTo(Float.floatToIntBits(whole.weight));
        assertThat(resumed.finalStep()).isEqualTo(10);
        assertThat(heard.checkpointSteps()).containsExactly(8L, 10L);
        assertThat(heard.events).contains("log resumed at step 6 from a checkpoint written with 1 stage(s), now on 1");
    }

    @Test
    void reportsThePlanFirstThenStepsEvaluationsCheckpointsAndTheEnd() {
        Heard heard = new Heard();

        train(spec(2, 2, 0, 3), new FakeEngine(), heard, StopSignal.never(), tmp);

        assertThat(heard.events.subList(0, 4)).containsExactly("plan", "step 1", "step 2", "eval 2");
        assertThat(heard.events).contains("checkpoint 2");
        assertThat(heard.events).anyMatch(e -> e.startsWith("log training complete after 2 steps; weights exported"));
        assertThat(heard.events.get(heard.events.size() - 1)).startsWith("log memory: plan estimate");
    }

    @Test
    void aReplicaOtherThanRankZeroTrainsItsRowsAndWritesOnlyItsShardOfEachCheckpoint() {
        JobSpec spec = spec(4, 0, 2, 3).withParallelism(new ParallelismSpec(null, 1, "1f1b", false, 2, "time"));
        FakeEngine engine = new FakeEngine();
        Heard heard = new Heard();
        TrainingRun run = TrainingRun.of(spec, 1, tmp)
                .reportingTo(heard)
                .asReplica(DataParallelGroup.evenly(1, 2, "127.0.0.1", 0));

        TrainingResult result = Trainer.train(run, engine);

        assertThat(result.outcome()).isEqualTo(TrainingResult.Outcome.COMPLETED);
        assertThat(engine.batchRows).as("half of each batch of 8").containsOnly(4);
        // throughput counts the whole job's batch, not this replica's half of it
        assertThat(heard.stepMetrics)
                .allSatisfy(m -> assertThat(m.tokensPerSecond() * m.stepSeconds())
                        .isCloseTo(8.0, org.assertj.core.data.Offset.offset(1e-6)));
        // its own shard of each checkpoint (every 2 steps), never the export
        assertThat(heard.checkpoints).extracting(CheckpointWritten::step).containsExactly(2L, 4L);
        assertThat(heard.checkpoints).allSatisfy(c -> {
            assertThat(c.shard()).isEqualTo(1);
            assertThat(c.shards()).isEqualTo(2);
            assertThat(c.path().getFileName().toString()).contains(".shard-1-of-2.");
        });
        assertThat(result.exportedModel()).isEmpty();
    }

    @Test
    void reportsTheEnginesStageTimeSplitAndNoMfuWithoutADeclaredPeak() {
        FakeEngine engine = new FakeEngine();
        StageTime split = new StageTime(0.3, 0.1, 0.05, 0.46);
        engine.stageTimes = List.of(split);
        Heard heard = new Heard();

        train(spec(3, 0, 0, 3), engine, heard, StopSignal.never(), tmp);

        assertThat(heard.stepMetrics).hasSize(3).allSatisfy(m -> {
            assertThat(m.stageTimes()).containsExactly(split);
            assertThat(m.modelFlopsUtilization())
                    .as("no peak declared: no made-up MFU")
                    .isEmpty();
        });
        assertThat(StageTime.asMetrics(List.of(split, new StageTime(0.2, 0.2, 0, 0.41))))
                .containsExactly(
                        org.assertj.core.api.Assertions.entry("stage0.compute_seconds", 0.3),
                        org.assertj.core.api.Assertions.entry("stage0.bubble_seconds", 0.1),
                        org.assertj.core.api.Assertions.entry("stage0.comm_seconds", 0.05),
                        org.assertj.core.api.Assertions.entry("stage1.compute_seconds", 0.2),
                        org.assertj.core.api.Assertions.entry("stage1.bubble_seconds", 0.2),
                        org.assertj.core.api.Assertions.entry("stage1.comm_seconds", 0.0));
    }

    @Test
    void mfuIsModelFlopsPerSecondOverEveryDeviceOfTheJobAtTheDeclaredPeak() {
        // the fake plan has 1 parameter and an MLP has no attention term: 6 model FLOPs per row; two replicas of
        // one stage hold 2 devices of the job
        JobSpec spec = spec(3, 0, 0, 3).withParallelism(new ParallelismSpec(null, 1, "1f1b", false, 2, "time"));
        Heard heard = new Heard();
        TrainingRun run = TrainingRun.of(spec, 1, tmp)
                .reportingTo(heard)
                .asReplica(DataParallelGroup.evenly(1, 2, "127.0.0.1", 0))
                .withPeakFlopsPerDevice(1000);

        Trainer.train(run, new FakeEngine());

        assertThat(heard.stepMetrics)
                .hasSize(3)
                .allSatisfy(m -> assertThat(m.modelFlopsUtilization())
                        .hasValueCloseTo(
                                6 * m.tokensPerSecond() / (2 * 1000.0), org.assertj.core.data.Offset.offset(1e-9)));
    }

    @Test
    void mfuOfOneProcessHoldingBothReplicasCountsTheDevicesItComputesOn() {
        // an elastic job running short: one process trains both replicas' rows through one pipeline of one device
        JobSpec spec = spec(3, 0, 0, 3).withParallelism(new ParallelismSpec(null, 1, "1f1b", false, 2, "time"));
        Heard heard = new Heard();
        TrainingRun run = TrainingRun.of(spec, 1, tmp)
                .reportingTo(heard)
                .asReplica(DataParallelGroup.whole(2))
                .withPeakFlopsPerDevice(1000);

        Trainer.train(run, new FakeEngine());

        assertThat(heard.stepMetrics)
                .hasSize(3)
                .allSatisfy(m -> assertThat(m.modelFlopsUtilization())
                        .hasValueCloseTo(6 * m.tokensPerSecond() / 1000.0, org.assertj.core.data.Offset.offset(1e-9)));
    }

    @Test
    void modelFlopsOfAGptAddTheAttentionTermToSixPerParameter() {
        JobSpec gpt = SpecDocument.parseForTraining("""
        {"name": "g", "model": {"type": "gpt", "layers": 2, "dModel": 32, "heads": 4, "seqLen": 16, "vocab": 128},
         "data": {"type": "arithmetic", "seed": 3}, "training": {"steps": 1, "batchSize": 8}}
        """);

        assertThat(ModelFlops.of(gpt, 1000).perToken()).isEqualTo(6 * 1000 + 12 * 2 * 16 * 32);
        assertThat(ModelFlops.of(gpt, 1000).utilization(100, 4, 0)).isEmpty();
        assertThat(ModelFlops.of(gpt, 1000).utilization(100, 4, 1e6)).hasValue(18288.0 * 100 / 4e6);
    }

    private static JobSpec diverging(double factor, int checkpointEvery) {
        return SpecDocument.parseForTraining("""
        {"name": "fake",
         "model": {"type": "mlp", "inputs": 4, "hidden": [8], "outputs": 2},
         "data": {"type": "synthetic-tabular", "seed": 3, "rows": 512},
         "training": {"steps": 10, "batchSize": 8, "seed": 5, "evalEvery": 0, "divergenceFactor": %s},
         "parallelism": {"microBatches": 1}}
        """.formatted(factor))
                .withCheckpoint(new CheckpointPolicy(checkpointEvery, 10, false));
    }

    @Test
    void aLossFarAboveItsRunningMinimumFailsTheRunKeepingOnlyTheCheckpointsBeforeIt() {
        FakeEngine engine = new FakeEngine();
        // 1, 1/2, ... 1/5, then 40 at the sixth step: 200 times the lowest (0.2) and above the first (1).
        engine.losses = step -> step == 5 ? 40.0 : 1.0 / (step + 1);
        Heard heard = new Heard();

        assertThatThrownBy(() -> train(diverging(100, 3), engine, heard, StopSignal.never(), tmp))
                .isInstanceOf(TrainingDivergedException.class)
                .hasMessageContaining("at step 6")
                .hasMessageContaining("the loss 40.0 is more than training.divergenceFactor 100.0 times")
                .hasMessageContaining("lowest loss so far, 0.2")
                .satisfies(e -> {
                    assertThat(((TrainingDivergedException) e).step()).isEqualTo(6);
                    assertThat(((TrainingDivergedException) e).loss()).isEqualTo(40.0);
                });

        assertThat(engine.trainedSteps).hasSize(6);
        assertThat(heard.checkpointSteps())
                .as("step 6 is on the cadence but diverged")
                .containsExactly(3L);
        assertThat(new CheckpointStore(tmp.resolve("checkpoints")).completeCheckpoints())
                .extracting(p -> CheckpointStore.load(p).step())
                .containsExactly(3L);
        assertThat(tmp.resolve("model")).doesNotExist();
        assertThat(heard.events).anyMatch(e -> e.startsWith("log training diverged at step 6"));
        assertThat(engine.closed).isTrue();
    }

    @Test
    void aNonFiniteLossFailsTheRunEvenWithTheFactorOffAndIsNotReportedAsAStep() {
        FakeEngine engine = new FakeEngine();
        engine.losses = step -> step == 2 ? Double.NaN : 1.0;
        Heard heard = new Heard();

        assertThatThrownBy(() -> train(diverging(0, 2), engine, heard, StopSignal.never(), tmp))
                .isInstanceOf(TrainingDivergedException.class)
                .hasMessage("training diverged at step 3: the loss is NaN")
                .satisfies(e -> {
                    assertThat(((TrainingDivergedException) e).step()).isEqualTo(3);
                    assertThat(((TrainingDivergedException) e).loss()).isNaN();
                });

        assertThat(heard.steps).containsExactly(1L, 2L);
        assertThat(heard.checkpointSteps()).containsExactly(2L);
    }

    @Test
    void noiseAboveANearZeroMinimumButBelowTheFirstLossIsNotDivergence() {
        FakeEngine engine = new FakeEngine();
        // The lowest loss is 0.001; 0.5 is 500 times that, but no worse than the untrained model's 2.
        engine.losses = step -> step == 0 ? 2.0 : step % 2 == 1 ? 0.001 : 0.5;

        TrainingResult result = train(diverging(100, 0), engine, new Heard(), StopSignal.never(), tmp);

        assertThat(result.outcome()).isEqualTo(TrainingResult.Outcome.COMPLETED);
    }

    @Test
    void aFactorOfZeroNeverStopsAFiniteLoss() {
        FakeEngine engine = new FakeEngine();
        engine.losses = step -> step == 5 ? 1e6 : 1.0 / (step + 1);

        TrainingResult result = train(diverging(0, 0), engine, new Heard(), StopSignal.never(), tmp);

        assertThat(result.outcome()).isEqualTo(TrainingResult.Outcome.COMPLETED);
    }

    @Test
    void aModelWhoseStateAloneExceedsTheMemoryFailsBeforeTheEngineAllocatesAnything() {
        JobSpec big = SpecDocument.parseForTraining("""
        {"name": "big",
         "model": {"type": "mlp", "inputs": 4, "hidden": [1024, 1024], "outputs": 2},
         "data": {"type": "synthetic-tabular"},
         "training": {"steps": 10}}
        """);
        FakeEngine engine = new FakeEngine();
        TrainingRun run = TrainingRun.of(big, 1, tmp).reportingTo(new Heard()).withMemoryLimit(8L << 20);

        // 1,056,770 parameters x 16 bytes (weights, gradients, two AdamW moments) = 16.1 MiB > 8 MiB
        assertThatThrownBy(() -> Trainer.train(run, engine))
                .isInstanceOf(MemoryPlanException.class)
                .hasMessageContaining("1,056,770 parameters need 16.1 MiB")
                .hasMessageContaining("only 8.0 MiB are available");
        assertThat(engine.opened).isFalse();
        assertThat(engine.trainedSteps).isEmpty();

        Trainer.train(run.withMemoryLimit(32L << 20), engine);
        assertThat(engine.opened).as("a model that fits is trained").isTrue();
    }
}
