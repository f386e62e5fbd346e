package dev.trainyard.runner.engine;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ModelSpec;
import dev.trainyard.spec.SpecDefaults;
import dev.trainyard.spec.SpecDocument;
import dev.trainyard.spec.TrainingSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * The training loop, independent of any native library: resume, step, evaluate, checkpoint, agree on stops
 * and export, driving a {@link TrainingEngine} that does the work on the devices.
 */
final class TrainingLoop {

    private final TrainingRun run;
    private final JobSpec spec;
    private final TrainingSpec training;
    private final TrainingListener listener;
    private final CheckpointStore store;
    private final DataParallelGroup replica;
    private final TrainingEngine engine;
    private final DivergenceWatch divergence;
    private final ResidentMemory resident = new ResidentMemory();
    private long estimatedPeakBytes;
    private int stageCount;
    private ModelFlops modelFlops;
    /**
     * Devices of the whole job this step computed on: stages x tensor-parallel ranks x data-parallel processes (a
     * process runs one replica's pipeline however many replicas it holds, as an elastic job running short does).
     */
    private int jobDevices;

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

    TrainingLoop(TrainingRun run, TrainingEngine engine) {
        this.run = run;
        this.spec = run.spec();
        this.training = spec.training();
        this.listener = run.listener();
        this.store = new CheckpointStore(run.outputDir().resolve("checkpoints"));
        this.replica = run.dataParallel();
        this.engine = engine;
        Double factor = training.divergenceFactor();
        this.divergence = new DivergenceWatch(factor == null ? SpecDefaults.DIVERGENCE_FACTOR : factor);
    }

    /** Trains until the last step or until the stop signal says stop; see {@link Trainer#train}. */
    TrainingResult train() {
        if (spec.parallelism().dataParallel() != replica.replicas()) {
            throw new SpecException(
                    "parallelism.dataParallel is " + spec.parallelism().dataParallel()
                            + " but this process was given replicas of a job with " + replica.replicas());
        }
        int threads = run.threadsPerStage() > 0
                ? run.threadsPerStage()
                : Math.max(
                        1,
                        Runtime.getRuntime().availableProcessors()
                                / run.stageCount()
                                / spec.parallelism().tensorParallelOrDefault());
        MemoryPlanner.requireModelStateFits(
                spec, run.memoryLimitBytes() > 0 ? run.memoryLimitBytes() : MemoryPlanner.hostAvailableBytes());
        TrainingData data = TrainingData.open(spec, run.dataFetcher());
        Optional<CheckpointReader> resume = run.resumeFrom().map(this::openCompatible);
        try (EngineSession session = engine.open(run, data, threads)) {
            TrainingPlan plan = session.plan();
            MemoryPlanner.requireFits(
                    plan.stages(), spec.parallelism().tensorParallelOrDefault(), plan.memoryLimitBytes());
            listener.onPlan(plan);
            // the whole pipeline's stages, also where this process holds only some of them
            stageCount = run.pipeline().isDistributed()
                    ? run.pipeline().stages()
                    : plan.stages().size();
            modelFlops = ModelFlops.of(spec, plan.totalParameters());
            jobDevices = stageCount * spec.parallelism().tensorParallelOrDefault() * replica.processes();
            session.build();
            resume.ifPresent(checkpoint -> restore(session, checkpoint));
            resident.startTraining();
            estimatedPeakBytes = plan.estimatedPeakBytes();
            return loop(session, data);
        } finally {
            resume.ifPresent(CheckpointReader::close);
            if (checkpointWriter != null) {
                checkpointWriter.shutdown();
            }
        }
    }

    private TrainingResult loop(EngineSession session, TrainingData data) {
        LearningRateSchedule rates = LearningRateSchedule.of(training);
        boolean checkpointCurrent = false;
        while (step < training.steps()) {
            // 1. One optimizer step over the next batch.
            long started = System.nanoTime();
            Batch whole = data.trainBatch(dataPosition, training.batchSize());
            Batch batch = shard(whole);
            double rate = rates.rateAt(step);
            boolean measured = step == 1;
            if (measured) {
                // A checkpoint written after step 1 holds a native copy of the state until its writer is done; freed
                // during the measured step, it would hide that much of the step's rise. So it is written first.
                awaitCheckpointWrite();
                resident.startMeasuredStep();
            }
            StepOutcome outcome = session.trainStep(
                    batch,
                    new StepParameters(
                            step, step + 1, training.seed(), rate, training.weightDecay(), training.gradClip()));
            if (measured) {
                resident.endMeasuredStep();
            }
            step++;
            dataPosition++;
            Optional<TrainingDivergedException> diverged = divergence.observe(step, outcome.loss());
            lastLoss = outcome.loss();
            double seconds = (System.nanoTime() - started) / 1e9;
            if (Double.isFinite(outcome.loss())) {
                // the job's throughput: every replica trains its rows of the same step in lockstep
                double tokensPerSecond = whole.tokens() / seconds;
                listener.onStep(new StepMetrics(
                        step,
                        outcome.loss(),
                        rate,
                        outcome.gradNorm(),
                        tokensPerSecond,
                        seconds,
                        outcome.stageBusySeconds(),
                        outcome.bubbleFraction(),
                        resident.peak(),
                        outcome.stageCpuSeconds(),
                        outcome.stageTimes(),
                        modelFlops.utilization(tokensPerSecond, jobDevices, run.peakFlopsPerDevice())));
            }
            if (step == 1) {
                reportMemory(session);
            }
            if (step == 2) {
                reportActivations(session);
            }
            // Before anything keeps this step: a diverged state is neither checkpointed nor exported.
            if (diverged.isPresent()) {
                awaitCheckpointWrite();
                listener.onLog(diverged.get().getMessage());
                throw diverged.get();
            }
            // 2. Evaluation and periodic checkpoint.
            if (training.evalEvery() > 0 && (step % training.evalEvery() == 0 || step == training.steps())) {
                evaluate(session, data);
            }
            checkpointCurrent = false;
            int every = spec.checkpoint().everySteps();
            if (every > 0 && step % every == 0) {
                checkpoint(session);
                checkpointCurrent = true;
            }
            // 3. Ask whether to go on; every replica must stop after the same step.
            StopRequest request =
                    step < training.steps() ? session.agree(run.stopSignal().check(step)) : StopRequest.CONTINUE;
            if (request != StopRequest.CONTINUE) {
                if (request == StopRequest.CHECKPOINT_AND_STOP && !checkpointCurrent) {
                    checkpoint(session);
                }
                listener.onLog("stopped after step " + step + " (" + request + ")");
                return result(TrainingResult.Outcome.STOPPED, Optional.empty());
            }
        }
        if (!checkpointCurrent) {
            checkpoint(session);
        }
        if (!run.writesOutputs()) {
            session.joinExport();
            listener.onLog("training complete after " + step + " steps (replica " + replica.rank() + ", pipeline rank "
                    + run.pipeline().rank() + ")");
            return result(TrainingResult.Outcome.COMPLETED, Optional.empty());
        }
        Path exported = session.export(run.outputDir().resolve("model"));
        listener.onLog("training complete after " + step + " steps; weights exported to " + exported);
        return result(TrainingResult.Outcome.COMPLETED, Optional.of(exported));
    }

    private void evaluate(EngineSession session, TrainingData data) {
        double total = 0;
        for (int i = 0; i < data.evalBatchCount(); i++) {
            total += session.evaluate(data.evalBatch(i, training.batchSize()));
        }
        lastEvalLoss = total / data.evalBatchCount();
        listener.onEval(new EvalMetrics(step, lastEvalLoss));
    }

    /** This process's replicas' rows of the global batch. */
    private Batch shard(Batch batch) {
        return replica.isDistributed()
                ? batch.slice(replica.firstReplica(), replica.localReplicas(), replica.replicas())
                : batch;
    }

    /**
     * Copies the state between steps (the only part training waits for; off the Java heap where the engine can),
     * then writes, hashes, fsyncs, frees the copy and prunes on a writer thread while the next steps run. One write
     * at a time: a new checkpoint first waits for the previous one, so checkpoints complete in step order and at
     * most one copy is held.
     */
    private void checkpoint(EngineSession session) {
        if (writesShards()) {
            checkpointShard(session);
            return;
        }
        if (!run.writesOutputs()) {
            if (session.captureIsCollective()) {
                session.capture(); // this process's part of gathering the sharded or split state; rank 0 writes it
            }
            return;
        }
        awaitCheckpointWrite();
        CapturedModel model = session.captureForCheckpoint();
        CheckpointState position = new CheckpointState(
                step,
                dataPosition,
                step,
                training.seed(),
                stageCount,
                SpecDocument.toJson(spec),
                List.of(),
                List.of(),
                List.of(),
                List.of());
        double evalLoss = lastEvalLoss;
        submitWrite(
                () -> {
                    try {
                        return store.write(position, model, evalLoss);
                    } finally {
                        model.release(); // native copies go as soon as they are on disk
                    }
                },
                evalLoss);
    }

    /**
     * Whether each process writes its own shard of each checkpoint (in parallel, nothing gathered): every
     * data-parallel process, and every rank of a pipeline spread over processes (its stages' tensors).
     */
    private boolean writesShards() {
        return replica.processes() > 1 || run.pipeline().isDistributed();
    }

    /**
     * Copies this process's own pieces between steps and writes them as its shard on the writer thread: shard
     * {@link TrainingRun#process()} of {@link TrainingRun#processes()}. The pieces are shared out among the
     * data-parallel processes holding the same stages.
     */
    private void checkpointShard(EngineSession session) {
        awaitCheckpointWrite();
        CapturedShard shard = session.captureShardForCheckpoint(replica.rank(), replica.processes());
        ShardedCheckpoint.Header header = new ShardedCheckpoint.Header(
                step,
                dataPosition,
                step,
                training.seed(),
                stageCount,
                SpecDocument.toJson(spec),
                layoutName(),
                run.process(),
                run.processes());
        double evalLoss = lastEvalLoss;
        submitWrite(
                () -> {
                    try {
                        return store.writeShard(header, shard, evalLoss);
                    } finally {
                        shard.release();
                    }
                },
                evalLoss);
    }

    /** The layout a checkpoint was written at, for people reading its header: "t2 p1 d2 zero1 on 2 processes". */
    private String layoutName() {
        var p = spec.parallelism();
        return String.format(
                Locale.ROOT,
                "t%d p%d d%d zero%d on %d processes",
                p.tensorParallelOrDefault(),
                stageCount,
                p.dataParallel(),
                p.zeroStage(),
                run.processes());
    }

    /**
     * Runs {@code write} (write, hash, fsync), then the pruning and the listener, on the writer thread while the
     * next steps run.
     */
    private void submitWrite(Supplier<CheckpointWritten> write, double evalLoss) {
        if (checkpointWriter == null) {
            checkpointWriter = Executors.newSingleThreadExecutor(task -> {
                Thread thread = new Thread(task, "checkpoint-writer");
                thread.setDaemon(true);
                return thread;
            });
        }
        pendingWrite = checkpointWriter.submit(() -> {
            CheckpointWritten written = write.get();
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

    /** Opens the checkpoint to resume from (headers read, no values), if it holds this model. */
    private CheckpointReader openCompatible(Path path) {
        CheckpointReader checkpoint = CheckpointStore.open(path);
        ModelSpec written = SpecDocument.modelOf(checkpoint.specJson());
        if (!written.equals(spec.model())) {
            try {
                checkpoint.verify(); // an altered header is reported as such, not as another model
            } finally {
                checkpoint.close();
            }
            throw new SpecException("checkpoint " + path + " holds model " + written + ", not " + spec.model());
        }
        return checkpoint;
    }

    /**
     * Loads this process's part of the checkpoint: the session reads the regions it holds, and says how much. The
     * checkpoint is verified after the reads, before anything of it is used beyond the session's tensors (which a
     * refusal throws away with the session): so the bytes used are the bytes verified.
     */
    private void restore(EngineSession session, CheckpointReader checkpoint) {
        session.restore(checkpoint);
        checkpoint.verify();
        step = checkpoint.step();
        dataPosition = checkpoint.dataPosition();
        listener.onLog("resumed at step " + step + " from a checkpoint written with " + checkpoint.stagesWrittenWith()
                + " stage(s), now on " + stageCount);
        listener.onLog(String.format(
                Locale.ROOT,
                "restore read %d of the checkpoint's %d bytes of tensors, at most %d bytes at once",
                checkpoint.bytesRead(),
                checkpoint.checkpointBytes(),
                checkpoint.largestRead()));
    }

    /** The plan beside what the first step's tensors held, per device: the plan's check in every run. */
    private void reportMemory(EngineSession session) {
        List<DeviceMemory> devices = session.measuredMemory();
        if (devices.isEmpty()) {
            return;
        }
        listener.onMemory(step, devices);
        for (DeviceMemory d : devices) {
            listener.onLog(String.format(
                            Locale.ROOT,
                            "memory: stage %d rank %d on %s holds %.2f MiB of weights, gradients and AdamW state, measured;"
                                    + " the plan says %.2f MiB of them (%.0f%%), %.2f MiB with its activations",
                            d.stage(),
                            d.rank(),
                            d.device(),
                            d.measuredStateBytes() / 1048576.0,
                            d.planStateBytes() / 1048576.0,
                            100 * d.measuredOverPlan(),
                            d.planBytes() / 1048576.0)
                    + (d.measuredPeakBytes() > 0
                            ? String.format(
                                    Locale.ROOT, "; allocated at most %.2f MiB", d.measuredPeakBytes() / 1048576.0)
                            : ""));
        }
    }

    /** The plan's activations of this process's devices beside the rise measured in the second step. */
    private void reportActivations(EngineSession session) {
        List<DeviceMemory> devices = session.measuredMemory();
        if (devices.isEmpty()) {
            return;
        }
        ProcessMemory process = ProcessMemory.of(devices, resident.stepRise());
        listener.onProcessMemory(step, process);
        listener.onLog(String.format(
                Locale.ROOT,
                "memory: this process's %d device(s) rose %.2f MiB above their state in step 2 (activations and"
                        + " temporaries, resident); the plan's activations or optimizer step for them, whichever is"
                        + " larger: %.2f MiB (%.0f%%)",
                devices.size(),
                process.measuredActivationBytes() / 1048576.0,
                process.planActivationBytes() / 1048576.0,
                100 * process.measuredOverPlan()));
    }

    private TrainingResult result(TrainingResult.Outcome outcome, Optional<Path> exported) {
        awaitCheckpointWrite();
        listener.onLog(String.format(
                "memory: plan estimate %.1f MiB; measured peak RSS %.1f MiB, %.1f MiB above the"
                        + " %.1f MiB the process held before the first step (JVM, libtorch, data)",
                estimatedPeakBytes / 1048576.0,
                resident.peak() / 1048576.0,
                (resident.peak() - resident.beforeTraining()) / 1048576.0,
                resident.beforeTraining() / 1048576.0));
        return new TrainingResult(outcome, step, lastLoss, lastEvalLoss, lastCheckpoint, exported);
    }
}
