package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.Batch;
import dev.trainyard.runner.engine.PipelineOp;
import dev.trainyard.runner.engine.PipelineSchedule;
import dev.trainyard.runner.engine.StageTime;
import dev.trainyard.runner.engine.StepOutcome;
import dev.trainyard.runner.engine.StepParameters;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Runs steps through the stages, one OS thread per stage (libtorch's intra-op thread count is set per
 * thread). Neighbouring stages exchange activations and gradients through {@link StageLink}s: FIFO queues in
 * this process, point-to-point transfers where the neighbour runs in another process (a pipeline spread over
 * processes, see {@link PipelineLinks}); each schedule runs forwards and backwards in increasing micro-batch order,
 * so FIFO order is the needed order.
 *
 * <p>Native memory: each stage thread opens one {@link PointerScope} per step. Tensors handed to a
 * neighbour were allocated in the sender's scope, so no scope closes before every stage has finished its
 * pipeline work (the gradient-clipping barrier, or the end barrier for evaluation).
 */
final class PipelineEngine implements AutoCloseable {

    private static final java.lang.management.ThreadMXBean CPU =
            java.lang.management.ManagementFactory.getThreadMXBean();

    /** Stage s, tensor-parallel rank r at s x ranks + r: one thread each. */
    private final List<PipelineStage> stages;

    private final int ranks;
    private final int stageCount;
    private final PipelineSchedule schedule;
    private final int microBatches;
    private final boolean recompute;
    private final ReplicaGroup replicas;
    private final List<ExecutorService> workers = new ArrayList<>();
    /** From lane l to lane l + ranks, in this process (the next stage's same tensor-parallel rank). */
    private final List<StageLink> activations = new ArrayList<>();
    /** From lane l + ranks back to lane l. */
    private final List<StageLink> gradients = new ArrayList<>();
    /** Null when every stage runs in this process; else the links to the neighbouring pipeline ranks. */
    private final PipelineLinks links;

    /**
     * Per tensor-parallel rank of this process's first stage, from the previous process (null where stage 0 is
     * here): one copy crosses, see {@link TensorParallelBoundary}.
     */
    private final List<StageLink> remoteActivationsIn;

    private final List<StageLink> remoteGradientsOut;
    /** Per rank of this process's last stage, to the next process (null where the last stage is here). */
    private final List<StageLink> remoteActivationsOut;

    private final List<StageLink> remoteGradientsIn;
    private volatile boolean aborted;
    /** Per lane (stage s, rank r at s·ranks + r): the training state its tensors held at the last step's backward. */
    private long[] lastStateBytes = new long[0];
    /** Per lane: the CUDA allocator's peak during the last step; 0 on CPU devices, where it is not measured. */
    private long[] lastPeakBytes = new long[0];

    /** {@code replicas} is null for a single replica. */
    PipelineEngine(
            List<PipelineStage> stages,
            PipelineSchedule schedule,
            int microBatches,
            boolean recompute,
            int threadsPerStage,
            boolean bf16,
            ReplicaGroup replicas) {
        this(stages, 1, schedule, microBatches, recompute, threadsPerStage, bf16, replicas, null);
    }

    /**
     * {@code stages} holds each stage's {@code ranks} tensor-parallel ranks, stage by stage. Rank r of a stage
     * exchanges activations and gradients with rank r of its neighbours (every rank has the whole activation after
     * each block's all-reduce); the ranks of a stage meet in their group's collectives. At a boundary with another
     * process, rank 0 alone sends, and receives for its stage's other ranks (see {@link TensorParallelBoundary}).
     */
    PipelineEngine(
            List<PipelineStage> stages,
            int ranks,
            PipelineSchedule schedule,
            int microBatches,
            boolean recompute,
            int threadsPerStage,
            boolean bf16,
            ReplicaGroup replicas,
            PipelineLinks links) {
        this.stages = List.copyOf(stages);
        this.ranks = ranks;
        this.links = links;
        this.stageCount = links == null ? stages.size() / ranks : links.stages();
        boolean firstHere = stages.get(0).range().stage() == 0;
        boolean lastHere = stages.get(stages.size() - 1).isLast();
        this.remoteActivationsIn =
                firstHere ? null : TensorParallelBoundary.receiving(links.activationsIn(), ranks, () -> aborted);
        this.remoteGradientsOut = firstHere ? null : TensorParallelBoundary.sending(links.gradientsOut(), ranks);
        this.remoteActivationsOut = lastHere ? null : TensorParallelBoundary.sending(links.activationsOut(), ranks);
        this.remoteGradientsIn =
                lastHere ? null : TensorParallelBoundary.receiving(links.gradientsIn(), ranks, () -> aborted);
        this.replicas = replicas;
        this.schedule = schedule;
        this.microBatches = microBatches;
        this.recompute = recompute;
        for (int s = 0; s < stages.size(); s++) {
            int stage = s;
            workers.add(Executors.newSingleThreadExecutor(task -> {
                Thread thread = new Thread(
                        () -> {
                            NativeRuntime.configureThread(threadsPerStage);
                            if (bf16) {
                                NativeRuntime.enableBf16Autocast();
                            }
                            task.run();
                        },
                        ranks == 1
                                ? "pipeline-stage-" + stage
                                : "pipeline-stage-" + stage / ranks + "-rank-" + stage % ranks);
                thread.setDaemon(true);
                return thread;
            }));
            activations.add(new QueueLink(() -> aborted));
            gradients.add(new QueueLink(() -> aborted));
        }
    }

    /** Forward and backward of every micro-batch on every stage, then clipping and the optimizer update. */
    StepOutcome trainStep(Batch batch, StepParameters step) {
        List<Batch> slices = slices(batch);
        // every rank of every stage hands in its squares: split parameters by slice, whole ones by rank 0 only
        GradientClipper clipper = links == null
                ? new GradientClipper(stages.size(), step.gradClip())
                : new GradientClipper(stages.size(), step.gradClip(), links::allSquares);
        List<StageReport> reports = runOnAllStages(s -> () -> trainOnStage(s, slices, step, clipper), clipper);
        lastStateBytes = reports.stream().mapToLong(StageReport::stateBytes).toArray();
        lastPeakBytes = reports.stream().mapToLong(StageReport::peakBytes).toArray();
        return outcome(rankZeroReports(reports), lossOf(reports), clipper.norm());
    }

    /** Mean loss of {@code batch} without autograd or dropout. */
    double evaluate(Batch batch) {
        List<Batch> slices = slices(batch);
        CyclicBarrier done = new CyclicBarrier(stages.size());
        List<StageReport> reports = runOnAllStages(s -> () -> evaluateOnStage(s, slices, done), null);
        return lossOf(reports);
    }

    /** The last stage's loss; where it runs in another process, that process's, shared with every rank. */
    private double lossOf(List<StageReport> reports) {
        double local = reports.get(reports.size() - 1).loss();
        return links == null ? local : links.fromLastRank(local);
    }

    /** Where lane {@code lane} receives its activations from: the previous stage here, or the previous rank. */
    private StageLink activationsInto(int lane) {
        return lane >= ranks ? activations.get(lane - ranks) : remoteActivationsIn.get(lane);
    }

    private StageLink activationsOutOf(int lane) {
        return lane + ranks < stages.size() ? activations.get(lane) : remoteActivationsOut.get(lastStageRank(lane));
    }

    private StageLink gradientsInto(int lane) {
        return lane + ranks < stages.size() ? gradients.get(lane) : remoteGradientsIn.get(lastStageRank(lane));
    }

    private StageLink gradientsOutOf(int lane) {
        return lane >= ranks ? gradients.get(lane - ranks) : remoteGradientsOut.get(lane);
    }

    /** The tensor-parallel rank of a lane of this process's last stage. */
    private int lastStageRank(int lane) {
        return lane - (stages.size() - ranks);
    }

    private StageReport trainOnStage(int lane, List<Batch> slices, StepParameters step, GradientClipper clipper)
            throws InterruptedException {
        PipelineStage stage = stages.get(lane);
        int s = stage.range().stage();
        stage.tensorParallel().bindToThread(stage.device());
        boolean cuda = stage.device().is_cuda();
        if (cuda) {
            CudaMemoryStats.resetPeak(stage.device());
        }
        try (PointerScope scope = new PointerScope()) {
            StageStopwatch watch = new StageStopwatch();
            long cpuStart = CPU.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            double loss = 0;
            // 0. Links from other processes start receiving the step's tensors. ZeRO 3: the step's gradient slices;
            // each block's parameters are gathered only while it runs.
            beginReceiving(lane, s, stage);
            stage.beginStep();
            // 1. The schedule's forwards and backwards; waiting for a neighbour is the bubble. At ZeRO 3 the blocks'
            // gathers and reduce-scatters inside them go to communication (CommunicationClock).
            for (PipelineOp op : schedule.stageOps(s, stageCount, microBatches)) {
                int mb = op.microBatch();
                ForwardPass pass = new ForwardPass(true, step.seed(), step.step(), mb);
                if (op.pass() == PipelineOp.Pass.FORWARD) {
                    Tensor received = s == 0 ? null : activationsInto(lane).receive(mb);
                    watch.endBubble();
                    Tensor output = stage.forward(mb, received, slices.get(mb), pass, recompute, microBatches);
                    if (stage.isLast()) {
                        loss += output.item_double();
                    } else {
                        activationsOutOf(lane).send(mb, output);
                    }
                    watch.endCompute();
                } else {
                    Tensor gradOutput =
                            stage.isLast() ? null : gradientsInto(lane).receive(mb);
                    watch.endBubble();
                    Tensor gradInput = stage.backward(mb, gradOutput, slices.get(mb), pass, microBatches);
                    if (s > 0) {
                        gradientsOutOf(lane).send(mb, gradInput);
                    }
                    watch.endCompute();
                }
            }
            finishSends(lane, s, stage);
            if (links != null) {
                // waiting until the last sends to a neighbouring process completed
                watch.endCommunication();
            }
            long end = System.nanoTime();
            long cpu = CPU.getCurrentThreadCpuTime() - cpuStart;
            long busy = end - start - watch.bubbleNanos();
            // the state's peak: every gradient is whole now, before ZeRO 2's reduce-scatter releases it (ZeRO 3's
            // peak was measured block by block)
            long stateBytes = stage.stateBytes();
            // 2. Data-parallel exchange: the same collectives in the same order on every replica, on this lane's own
            // group (the processes' same stage and tensor rank): its gradients, its buffers, the loss. A whole
            // (replicated) parameter has the same gradient on every tensor rank, so each rank's average of it is the
            // same too.
            double[] squares = null;
            if (replicas != null) {
                if (stage.sharded()) {
                    squares = new double[] {stage.reduceScatterGradients()};
                } else {
                    stage.averageGradients(lane, replicas);
                }
                stage.adoptRankZeroBuffers(lane, replicas);
                if (stage.isLast()) {
                    loss = replicas.averageValue(lane, loss);
                }
                watch.endCommunication();
            }
            // 3. Clipping: the norms are compute, waiting at the barrier for the slowest stage is bubble.
            double[] handedIn = squares != null ? squares : stage.squaredGradientNorms();
            watch.endCompute();
            double factor = clipper.exchange(lane, handedIn);
            watch.endBubble();
            // 4. The update (ZeRO's all-gather inside it counts as communication).
            if (factor < 1) {
                stage.scaleGradients(factor);
            }
            stage.applyOptimizer(step.optimizerStep(), step.learningRate(), step.weightDecay());
            watch.endCompute();
            long peakBytes = cuda ? CudaMemoryStats.peakAllocatedBytes(stage.device()) : 0;
            return new StageReport(start, end, busy, cpu, loss, watch.stop(), stateBytes, peakBytes);
        }
    }

    private StageReport evaluateOnStage(int lane, List<Batch> slices, CyclicBarrier done) throws Exception {
        PipelineStage stage = stages.get(lane);
        int s = stage.range().stage();
        stage.tensorParallel().bindToThread(stage.device());
        try (PointerScope scope = new PointerScope()) {
            double[] loss = new double[1];
            long start = System.nanoTime();
            Exception[] failure = new Exception[1];
            if (s > 0) {
                activationsInto(lane).beginStep(microBatches);
            }
            Tensors.withoutGrad(() -> {
                try {
                    for (int mb = 0; mb < microBatches; mb++) {
                        Tensor received = s == 0 ? null : activationsInto(lane).receive(mb);
                        Tensor output = stage.evaluate(received, slices.get(mb), microBatches);
                        if (stage.isLast()) {
                            loss[0] += output.item_double();
                        } else {
                            activationsOutOf(lane).send(mb, output);
                        }
                    }
                } catch (InterruptedException e) {
                    failure[0] = e;
                }
            });
            if (failure[0] != null) {
                throw failure[0];
            }
            finishSends(lane, s, stage);
            done.await();
            long end = System.nanoTime();
            return new StageReport(start, end, end - start, 0, loss[0], null, 0, 0);
        }
    }

    private interface StageTask {
        Callable<StageReport> forStage(int stage);
    }

    private List<StageReport> runOnAllStages(StageTask task, GradientClipper clipper) {
        List<Future<StageReport>> futures = new ArrayList<>();
        for (int s = 0; s < stages.size(); s++) {
            Callable<StageReport> work = task.forStage(s);
            futures.add(workers.get(s).submit(() -> {
                try {
                    return work.call();
                } catch (Throwable t) {
                    // Unblock the other stages at once: queues poll this flag, the barrier breaks.
                    aborted = true;
                    if (clipper != null) {
                        clipper.abort();
                    }
                    throw t;
                }
            }));
        }
        List<StageReport> reports = new ArrayList<>();
        RuntimeException failure = null;
        for (Future<StageReport> future : futures) {
            try {
                reports.add(future.get());
            } catch (ExecutionException e) {
                // report the stage that failed first, not the others giving up because of it
                if (failure == null || failure.getCause() instanceof StageAbortedException) {
                    failure = new IllegalStateException("pipeline step failed: " + e.getCause(), e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                aborted = true;
                throw new IllegalStateException("interrupted while training", e);
            }
        }
        if (failure != null) {
            throw failure;
        }
        return reports;
    }

    /** Tells this lane's incoming links that a training step begins (one from another process receives ahead). */
    private void beginReceiving(int lane, int s, PipelineStage stage) {
        if (s > 0) {
            activationsInto(lane).beginStep(microBatches);
        }
        if (!stage.isLast()) {
            gradientsInto(lane).beginStep(microBatches);
        }
    }

    /** Waits until this lane's tensors sent this step left (a link to another process sends in the background). */
    private void finishSends(int lane, int s, PipelineStage stage) {
        if (!stage.isLast()) {
            activationsOutOf(lane).finishStep();
        }
        if (s > 0) {
            gradientsOutOf(lane).finishStep();
        }
    }

    private List<Batch> slices(Batch batch) {
        List<Batch> slices = new ArrayList<>(microBatches);
        for (int mb = 0; mb < microBatches; mb++) {
            slices.add(microBatches == 1 ? batch : batch.slice(mb, microBatches));
        }
        return slices;
    }

    /** One report per stage (its tensor-parallel rank 0's): the step's figures are per stage. */
    private List<StageReport> rankZeroReports(List<StageReport> reports) {
        List<StageReport> perStage = new ArrayList<>();
        for (int i = 0; i < reports.size(); i += ranks) {
            perStage.add(reports.get(i));
        }
        return perStage;
    }

    private static StepOutcome outcome(List<StageReport> reports, double loss, double gradNorm) {
        long start = reports.stream().mapToLong(StageReport::startNanos).min().orElse(0);
        long end = reports.stream().mapToLong(StageReport::endNanos).max().orElse(0);
        double wall = (end - start) / 1e9;
        List<Double> busy = reports.stream().map(r -> r.busyNanos() / 1e9).toList();
        double busyTotal = busy.stream().mapToDouble(Double::doubleValue).sum();
        double bubble = wall > 0 ? Math.max(0, 1 - busyTotal / (reports.size() * wall)) : 0;
        List<Double> cpu = reports.stream().map(r -> r.cpuNanos() / 1e9).toList();
        List<StageTime> times = reports.stream().map(StageReport::time).toList();
        return new StepOutcome(loss, gradNorm, busy, wall, bubble, cpu, times);
    }

    /** Every stage's every tensor-parallel rank, stage by stage. */
    List<PipelineStage> stages() {
        return stages;
    }

    int ranks() {
        return ranks;
    }

    /** Whether a stage thread failed: a tensor-parallel peer waiting in a collective gives up. */
    /** What {@link #lastStateBytes} says, in lane order; empty before the first step. */
    long[] lastStateBytes() {
        return lastStateBytes.clone();
    }

    /** What {@link #lastPeakBytes} says, in lane order. */
    long[] lastPeakBytes() {
        return lastPeakBytes.clone();
    }

    boolean aborted() {
        return aborted;
    }

    @Override
    public void close() {
        workers.forEach(ExecutorService::shutdownNow);
    }
}
