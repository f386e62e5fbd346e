package dev.trainyard.runner.engine.torch;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ModelLayout;
import dev.trainyard.spec.ModelSpec;
import dev.trainyard.spec.SpecDocument;
import dev.trainyard.spec.StagePartitioner;
import dev.trainyard.spec.StageRange;
import dev.trainyard.spec.TrainingSpec;
import dev.trainyard.runner.engine.Batch;
import dev.trainyard.runner.engine.CheckpointState;
import dev.trainyard.runner.engine.CheckpointStore;
import dev.trainyard.runner.engine.CheckpointWritten;
import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.EvalMetrics;
import dev.trainyard.runner.engine.HostTensor;
import dev.trainyard.runner.engine.LearningRateSchedule;
import dev.trainyard.runner.engine.MemoryPlanner;
import dev.trainyard.runner.engine.PeakMemory;
import dev.trainyard.runner.engine.PipelineSchedule;
import dev.trainyard.runner.engine.ModelFile;
import dev.trainyard.runner.engine.SpecException;
import dev.trainyard.runner.engine.StagePlan;
import dev.trainyard.runner.engine.StepMetrics;
import dev.trainyard.runner.engine.StopRequest;
import dev.trainyard.runner.engine.TrainingData;
import dev.trainyard.runner.engine.TrainingListener;
import dev.trainyard.runner.engine.TrainingPlan;
import dev.trainyard.runner.engine.TrainingResult;
import dev.trainyard.runner.engine.TrainingRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The training loop on libtorch: plan, build stages, resume, step, evaluate, checkpoint, export. */
public final class TorchTrainer {

  private final TrainingRun run;
  private final JobSpec spec;
  private final TrainingSpec training;
  private final TrainingListener listener;
  private final CheckpointStore store;
  private final DataParallelGroup replica;
  private ReplicaGroup replicas;
  private long baselineRssBytes;
  private ModelLayout layout;
  private ScriptedModel scripted;
  private long estimatedPeakBytes;

  private long step;
  private long dataPosition;
  private double lastLoss = Double.NaN;
  private double lastEvalLoss = Double.NaN;
  private double bestEvalLoss = Double.POSITIVE_INFINITY;
  private Optional<Path> bestCheckpoint = Optional.empty();
  private Optional<CheckpointWritten> lastCheckpoint = Optional.empty();
  /** Writes checkpoints while training goes on; at most one write is under way (see {@link #checkpoint}). */
  private ExecutorService checkpointWriter;
  private Future<?> pendingWrite;

  public TorchTrainer(TrainingRun run) {
    this.run = run;
    this.spec = run.spec();
    this.training = spec.training();
    this.listener = run.listener();
    this.store = new CheckpointStore(run.outputDir().resolve("checkpoints"));
    this.replica = run.dataParallel();
  }

  /** Trains until the last step or until the stop signal says stop; see {@code Trainer#train}. */
  public TrainingResult train() {
    if (spec.parallelism().dataParallel() != replica.replicas()) {
      throw new SpecException("parallelism.dataParallel is " + spec.parallelism().dataParallel()
          + " but this process was given replicas of a job with " + replica.replicas());
    }
    int stageCount = run.stageCount();
    int threads = run.threadsPerStage() > 0 ? run.threadsPerStage()
        : Math.max(1, Runtime.getRuntime().availableProcessors() / stageCount);
    NativeRuntime.configureThread(threads);
    Optional<CheckpointState> resume = run.resumeFrom().map(this::loadCompatible);
    TrainingData data = TrainingData.open(spec);
    LossFunction lossFunction = new LossFunction(spec.model());
    List<ModelBlock> blocks = buildModel(lossFunction, data);
    replicas = replica.isDistributed() ? new ReplicaGroup(replica, stageCount, run.stopSignal()::abandoned) : null;
    List<StageRange> ranges = partition(blocks, lossFunction, data, stageCount);
    TrainingPlan plan = plan(ranges, threads);
    MemoryPlanner.requireFits(plan.stages(), plan.memoryLimitBytes());
    listener.onPlan(plan);
    List<PipelineStage> stages = buildStages(blocks, ranges, lossFunction, plan);
    resume.ifPresent(state -> restore(state, stages));
    PeakMemory.resetPeak();
    baselineRssBytes = PeakMemory.rssBytes();
    estimatedPeakBytes = plan.estimatedPeakBytes();
    try (PipelineEngine engine = new PipelineEngine(stages, plan.schedule(), plan.microBatches(),
        plan.recompute(), threads, training.bf16(), replicas)) {
      return loop(engine, data);
    } finally {
      if (checkpointWriter != null) {
        checkpointWriter.shutdown();
      }
    }
  }

  private TrainingResult loop(PipelineEngine engine, TrainingData data) {
    LearningRateSchedule rates = LearningRateSchedule.of(training);
    boolean checkpointCurrent = false;
    while (step < training.steps()) {
      // 1. One optimizer step over the next batch.
      long started = System.nanoTime();
      Batch batch = shard(data.trainBatch(dataPosition, training.batchSize()));
      double rate = rates.rateAt(step);
      StepOutcome outcome = engine.trainStep(batch, new StepParameters(step, step + 1, training.seed(), rate,
          training.weightDecay(), training.gradClip()));
      step++;
      dataPosition++;
      lastLoss = outcome.loss();
      double seconds = (System.nanoTime() - started) / 1e9;
      listener.onStep(new StepMetrics(step, outcome.loss(), rate, outcome.gradNorm(), batch.tokens() / seconds,
          seconds, outcome.stageBusySeconds(), outcome.bubbleFraction(), PeakMemory.peakRssBytes(),
          outcome.stageCpuSeconds()));
      // 2. Evaluation and periodic checkpoint.
      if (training.evalEvery() > 0 && (step % training.evalEvery() == 0 || step == training.steps())) {
        evaluate(engine, data);
      }
      checkpointCurrent = false;
      int every = spec.checkpoint().everySteps();
      if (every > 0 && step % every == 0) {
        checkpoint(engine);
        checkpointCurrent = true;
      }
      // 3. Ask whether to go on.
      StopRequest request = step < training.steps() ? agreed(run.stopSignal().check(step)) : StopRequest.CONTINUE;
      if (request != StopRequest.CONTINUE) {
        if (request == StopRequest.CHECKPOINT_AND_STOP && !checkpointCurrent) {
          checkpoint(engine);
        }
        listener.onLog("stopped after step " + step + " (" + request + ")");
        return result(TrainingResult.Outcome.STOPPED, Optional.empty());
      }
    }
    if (!checkpointCurrent) {
      checkpoint(engine);
    }
    if (!replica.writesOutputs()) {
      listener.onLog("training complete after " + step + " steps (replica " + replica.rank() + ")");
      return result(TrainingResult.Outcome.COMPLETED, Optional.empty());
    }
    Path exported = ModelExport.write(run.outputDir().resolve("model"), spec, engine.stages());
    if (scripted != null) {
      scripted.save(exported.resolveSibling("model.pt"));
    }
    listener.onLog("training complete after " + step + " steps; weights exported to " + exported);
    return result(TrainingResult.Outcome.COMPLETED, Optional.of(exported));
  }

  private void evaluate(PipelineEngine engine, TrainingData data) {
    double total = 0;
    for (int i = 0; i < data.evalBatchCount(); i++) {
      total += engine.evaluate(data.evalBatch(i, training.batchSize()));
    }
    lastEvalLoss = total / data.evalBatchCount();
    listener.onEval(new EvalMetrics(step, lastEvalLoss));
  }

  /** This process's replicas' rows of the global batch. */
  private Batch shard(Batch batch) {
    return replica.isDistributed()
        ? batch.slice(replica.firstReplica(), replica.localReplicas(), replica.replicas()) : batch;
  }

  /** All replicas must stop at the same step, or the others would wait in a collective forever. */
  private StopRequest agreed(StopRequest local) {
    return replicas == null ? local : StopRequest.values()[replicas.agreeOnMaximum(local.ordinal())];
  }

  /**
   * Copies the state into Java memory between steps (the only part training waits for), then writes, hashes,
   * fsyncs and prunes on a writer thread while the next steps run. One write at a time: a new checkpoint first
   * waits for the previous one, so checkpoints complete in step order and at most one copy is held.
   */
  private void checkpoint(PipelineEngine engine) {
    if (!replica.writesOutputs()) {
      return;
    }
    awaitCheckpointWrite();
    List<HostTensor> params = new ArrayList<>();
    List<HostTensor> buffers = new ArrayList<>();
    List<HostTensor> first = new ArrayList<>();
    List<HostTensor> second = new ArrayList<>();
    try (var scope = new org.bytedeco.javacpp.PointerScope()) {
      for (PipelineStage stage : engine.stages()) {
        params.addAll(stage.parametersToHost());
        buffers.addAll(stage.buffersToHost());
        first.addAll(stage.firstMomentsToHost());
        second.addAll(stage.secondMomentsToHost());
      }
    }
    CheckpointState state = new CheckpointState(step, dataPosition, step, training.seed(), engine.stages().size(),
        SpecDocument.toJson(spec), params, buffers, first, second);
    double evalLoss = lastEvalLoss;
    if (checkpointWriter == null) {
      checkpointWriter = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "checkpoint-writer");
        thread.setDaemon(true);
        return thread;
      });
    }
    pendingWrite = checkpointWriter.submit(() -> {
      CheckpointWritten written = store.write(state, evalLoss);
      if (spec.checkpoint().keepBest() && evalLoss < bestEvalLoss) {
        bestEvalLoss = evalLoss;
        bestCheckpoint = Optional.of(written.path());
      }
      store.prune(spec.checkpoint().keepLast(), bestCheckpoint);
      lastCheckpoint = Optional.of(written);
      listener.onCheckpoint(written);
    });
  }

  /** Waits for the checkpoint being written, if any; its failure fails the run here. */
  private void awaitCheckpointWrite() {
    if (pendingWrite == null) {
      return;
    }
    try {
      pendingWrite.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("checkpoint write failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while a checkpoint was written", e);
    } finally {
      pendingWrite = null;
    }
  }

  private CheckpointState loadCompatible(Path path) {
    CheckpointState state = CheckpointStore.load(path);
    ModelSpec written = SpecDocument.modelOf(state.specJson());
    if (!written.equals(spec.model())) {
      throw new SpecException("checkpoint " + path + " holds model " + written + ", not " + spec.model());
    }
    return state;
  }

  private void restore(CheckpointState state, List<PipelineStage> stages) {
    Map<String, HostTensor> params = byName(state.parameters());
    Map<String, HostTensor> buffers = byName(state.buffers());
    Map<String, HostTensor> first = byName(state.firstMoments());
    Map<String, HostTensor> second = byName(state.secondMoments());
    try (var scope = new org.bytedeco.javacpp.PointerScope()) {
      stages.forEach(stage -> stage.load(params, buffers, first, second));
    }
    step = state.step();
    dataPosition = state.dataPosition();
    listener.onLog("resumed at step " + step + " from a checkpoint written with " + state.stagesWrittenWith()
        + " stage(s), now on " + stages.size());
  }

  private static Map<String, HostTensor> byName(List<HostTensor> tensors) {
    return tensors.stream().collect(Collectors.toMap(HostTensor::name, Function.identity()));
  }

  /** The model's blocks; also sets the layout (for a TorchScript module, measured on one micro-batch). */
  private List<ModelBlock> buildModel(LossFunction lossFunction, TrainingData data) {
    if (!(spec.model() instanceof ModelSpec.TorchScript script)) {
      layout = ModelLayout.of(spec.model());
      return ModelFactory.build(spec.model(), training.seed());
    }
    scripted = ScriptedModel.load(ModelFile.resolve(script.uri(), run.outputDir().resolve("cache")));
    if (scripted.containsDropout()) {
      // Dropout inside a TorchScript module draws from libtorch's one global generator, which all stage
      // threads share and which cannot be seeded per (step, micro-batch, block). A recomputed forward would
      // draw other masks than the forward whose activations went on to the next stage: wrong gradients.
      if (spec.parallelism().recompute()) {
        throw new SpecException("parallelism.recompute cannot be used with " + scripted + ": it contains"
            + " dropout, and its masks come from libtorch's global generator, so a recomputed forward would not"
            + " repeat the original masks");
      }
      listener.onLog("warning: " + scripted + " contains dropout; its masks come from libtorch's global"
          + " generator, so this run is not bitwise reproducible and a resumed run draws other masks");
    }
    layout = scripted.probe(script, lossFunction, data.trainBatch(0, microBatchRows()));
    listener.onLog("loaded " + scripted + " from " + script.uri() + ": " + layout.parameters() + " parameters;"
        + " activation memory is estimated from block outputs only (a lower bound)");
    return scripted.blocks();
  }

  private List<StageRange> partition(List<ModelBlock> blocks, LossFunction lossFunction, TrainingData data,
      int stageCount) {
    if (stageCount > blocks.size()) {
      throw new SpecException(stageCount + " stages asked for a model of only " + blocks.size() + " blocks");
    }
    if (stageCount == 1) {
      return List.of(new StageRange(0, 0, blocks.size()));
    }
    if (spec.parallelism().balance().equals("params")) {
      return StagePartitioner.byParameters(layout, stageCount);
    }
    Batch sample = data.trainBatch(0, microBatchRows());
    double[] seconds = BlockProfiler.profile(blocks, lossFunction, sample);
    // Replicas must cut the model identically (their stage groups exchange the same tensors): they
    // partition the mean of their measurements.
    return StagePartitioner.partition(replicas == null ? seconds : replicas.averageAll(seconds), stageCount);
  }

  private TrainingPlan plan(List<StageRange> ranges, int threads) {
    var parallelism = spec.parallelism();
    List<StagePlan> stagePlans = new ArrayList<>();
    for (StageRange range : ranges) {
      long params = layout.blocks().subList(range.firstBlock(), range.endBlock()).stream()
          .mapToLong(b -> b.parameters()).sum();
      stagePlans.add(new StagePlan(range, NativeRuntime.deviceName(range.stage()), params,
          MemoryPlanner.estimate(layout, range, ranges.size(), PipelineSchedule.named(parallelism.schedule()),
              parallelism.microBatches(), microBatchRows(), parallelism.recompute())));
    }
    long limit = run.memoryLimitBytes() > 0 ? run.memoryLimitBytes() : MemoryPlanner.hostAvailableBytes();
    return new TrainingPlan(stagePlans, PipelineSchedule.named(parallelism.schedule()), parallelism.microBatches(),
        parallelism.recompute(), threads, layout.parameters(), limit);
  }

  private List<PipelineStage> buildStages(List<ModelBlock> blocks, List<StageRange> ranges,
      LossFunction lossFunction, TrainingPlan plan) {
    List<PipelineStage> stages = new ArrayList<>();
    for (StagePlan stagePlan : plan.stages()) {
      StageRange range = stagePlan.range();
      stages.add(new PipelineStage(range, blocks.subList(range.firstBlock(), range.endBlock()),
          NativeRuntime.device(stagePlan.device()), lossFunction, ranges.size()));
    }
    return stages;
  }

  private int microBatchRows() {
    return training.batchSize() / spec.parallelism().microBatches() / replica.replicas() * replica.localReplicas();
  }

  private TrainingResult result(TrainingResult.Outcome outcome, Optional<Path> exported) {
    awaitCheckpointWrite();
    listener.onLog(String.format("memory: plan estimate %.1f MiB; measured peak RSS %.1f MiB, %.1f MiB above the"
        + " %.1f MiB the process held before the first step (JVM, libtorch, data)", estimatedPeakBytes / 1048576.0,
        PeakMemory.peakRssBytes() / 1048576.0, (PeakMemory.peakRssBytes() - baselineRssBytes) / 1048576.0,
        baselineRssBytes / 1048576.0));
    return new TrainingResult(outcome, step, lastLoss, lastEvalLoss, lastCheckpoint, exported);
  }
}
