package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.Batch;
import dev.trainyard.runner.engine.HostTensor;
import dev.trainyard.runner.engine.ShardLayout;
import dev.trainyard.runner.engine.TensorSource;
import dev.trainyard.spec.StageRange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;

/**
 * The blocks of one pipeline stage on one device, with their AdamW state (whole, or this data-parallel
 * process's ZeRO shard of it), and the forward and backward passes of single micro-batches. A stage keeps, per
 * micro-batch in flight, its input (a detached leaf so the gradient for the previous stage lands in {@code
 * input.grad()}) and, unless recomputing, its output. At ZeRO 3 the passes gather one block at a time instead
 * (see {@link BlockGatheringPasses}).
 */
final class PipelineStage {

    private record InFlight(Tensor input, Tensor output) {}

    private final StageRange range;
    private final List<ModelBlock> blocks;
    private final Device device;
    private final LossFunction lossFunction;
    private final boolean first;
    private final boolean last;
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, ShardLayout> shards = new LinkedHashMap<>();
    private final TensorParallelRank tensorParallel;
    /** Exactly one of these two is set: the whole AdamW state, or this process's ZeRO shard of it. */
    private final AdamW optimizer;

    private final ShardedAdamW shardedOptimizer;
    /** The first stage this process holds: lanes are counted from it. */
    private final int firstStageHere;

    private final Map<Integer, InFlight> inFlight = new HashMap<>();
    /** Counted before ZeRO 3 releases the parameters, which then have zero elements between steps. */
    private final long parameterCount;
    /** The largest of this stage's blocks' parameters, in bytes (counted before ZeRO 3 releases them). */
    private final long largestBlockParameterBytes;
    /** ZeRO 3 over several processes: the passes that gather one block at a time; else null. */
    private final BlockGatheringPasses gathering;

    PipelineStage(StageRange range, List<ModelBlock> blocks, Device device, LossFunction lossFunction, int stageCount) {
        this(range, blocks, device, lossFunction, stageCount, 0, null);
    }

    /**
     * @param zeroStage the spec's ZeRO stage: above 0 with {@code replicas} spread over several processes, this
     *     stage keeps only its process's shard of the optimizer state (see {@link ShardedAdamW})
     */
    PipelineStage(
            StageRange range,
            List<ModelBlock> blocks,
            Device device,
            LossFunction lossFunction,
            int stageCount,
            int zeroStage,
            ReplicaGroup replicas) {
        this(range, blocks, device, lossFunction, stageCount, zeroStage, replicas, 0);
    }

    /**
     * @param firstStageHere the first stage this process holds (0 unless the pipeline spans processes): the
     *     replica group's lanes count this process's stages from it
     */
    PipelineStage(
            StageRange range,
            List<ModelBlock> blocks,
            Device device,
            LossFunction lossFunction,
            int stageCount,
            int zeroStage,
            ReplicaGroup replicas,
            int firstStageHere) {
        this.range = range;
        this.firstStageHere = firstStageHere;
        this.blocks = List.copyOf(blocks);
        this.device = device;
        this.lossFunction = lossFunction;
        this.first = range.stage() == 0;
        this.last = range.stage() == stageCount - 1;
        for (ModelBlock block : this.blocks) {
            block.moveTo(device);
            parameters.putAll(block.parameters());
            buffers.putAll(block.buffers());
            shards.putAll(block.shards());
        }
        this.tensorParallel =
                blocks.isEmpty() ? TensorParallelRank.SINGLE : blocks.get(0).tensorParallel();
        this.parameterCount =
                parameters.values().stream().mapToLong(Tensor::numel).sum();
        this.largestBlockParameterBytes = this.blocks.stream()
                .mapToLong(b -> b.parameters().values().stream()
                        .mapToLong(Tensor::nbytes)
                        .sum())
                .max()
                .orElse(0);
        boolean sharded = zeroStage > 0 && replicas != null && replicas.processes() > 1;
        this.optimizer = sharded ? null : new AdamW(parameters);
        List<Map<String, Tensor>> blockParameters =
                this.blocks.stream().map(ModelBlock::parameters).toList();
        this.shardedOptimizer =
                sharded ? new ShardedAdamW(blockParameters, zeroStage, replicas, lane(), this::countsInNorm) : null;
        this.gathering = shardsParameters() ? new BlockGatheringPasses(this.blocks.size(), shardedOptimizer) : null;
    }

    /**
     * This stage's tensor rank's place among the replica group's lanes: stage s, rank r of t at s·t + r, s counted
     * from this process's first stage.
     */
    int lane() {
        return (range.stage() - firstStageHere) * tensorParallel.size() + tensorParallel.rank();
    }

    /**
     * Whether this rank's gradient of a parameter counts in the global norm: a split parameter's slice on every
     * rank, a whole (replicated) one on rank 0 only, so the sum over the group's ranks is the whole model's.
     */
    private boolean countsInNorm(String name) {
        return tensorParallel.rank() == 0 || shards.containsKey(name);
    }

    /** Whether this stage's optimizer state is sharded over the data-parallel processes. */
    boolean sharded() {
        return shardedOptimizer != null;
    }

    /**
     * ZeRO 3, at a step's start on the stage thread (in its step scope): the step's gradient slices, zeroed, for the
     * blocks' backwards to reduce into. Nothing below stage 3.
     */
    void beginStep() {
        if (shardsParameters()) {
            shardedOptimizer.beginStep();
        }
    }

    /**
     * ZeRO 3, between steps: gives the parameters whole storage again and copies {@code whole} (by name) into it,
     * without a collective (for saving a TorchScript module); {@link #releaseParameters()} drops it again.
     */
    void restoreWholeParameters(Map<String, HostTensor> whole) {
        if (shardsParameters()) {
            shardedOptimizer.materializeParameters();
            Map<String, HostTensor> local = shards.isEmpty() ? whole : sliced(whole);
            parameters.forEach((name, p) -> Tensors.copyInto(p, AdamW.require(local, name)));
        }
    }

    /** ZeRO 3: drops whole parameters again, keeping this process's slice (after {@link #restoreWholeParameters}). */
    void releaseParameters() {
        if (sharded()) {
            shardedOptimizer.releaseParameters();
        }
    }

    /** Whether this stage keeps only a slice of its parameters between steps (ZeRO 3 over several processes). */
    boolean shardsParameters() {
        return sharded() && shardedOptimizer.shardsParameters();
    }

    /**
     * Bytes of parameters this process's tensors hold for this stage now: the parameters themselves (zero
     * elements while released at ZeRO 3) and ZeRO 3's kept slice when it is not a view into them.
     */
    long heldParameterBytes() {
        long bytes = parameters.values().stream().mapToLong(Tensor::nbytes).sum();
        return bytes + (sharded() ? shardedOptimizer.parameterSliceBytes() : 0);
    }

    /** Bytes this stage's parameters take whole: one float32 per element. */
    long wholeParameterBytes() {
        return unshardedOptimizerStateBytes() / 2;
    }

    /** Bytes of AdamW moment tensors this process holds for this stage. */
    long optimizerStateBytes() {
        return sharded() ? shardedOptimizer.stateBytes() : optimizer.stateBytes();
    }

    /** Bytes the AdamW moments of this stage's parameters take unsharded: two float32 per element. */
    long unshardedOptimizerStateBytes() {
        return 2L * Float.BYTES * parameterCount;
    }

    /**
     * The most bytes of full parameters this stage's tensors held at once during the last step: at ZeRO 3 two
     * neighbouring blocks' at most (one running, the next being gathered), measured at each gather; below, the whole
     * stage's, which exist throughout.
     */
    long peakWholeParameterBytes() {
        return shardsParameters()
                ? shardedOptimizer.peakWholeParameterBytes()
                : parameters.values().stream().mapToLong(Tensor::nbytes).sum();
    }

    /** Bytes of the parameters of this stage's largest block, whole. */
    long largestBlockParameterBytes() {
        return largestBlockParameterBytes;
    }

    /**
     * Bytes of training state this device's tensors hold now: parameters, the gradients that exist and the AdamW
     * moments (whole, or this process's ZeRO slice). Read at the end of a step's backward, when all of them exist;
     * at ZeRO 3, whose blocks are released by then, the peak measured during the step's backwards instead.
     */
    long stateBytes() {
        if (shardsParameters()) {
            return shardedOptimizer.peakStateBytes();
        }
        long bytes = optimizerStateBytes();
        for (Tensor p : parameters.values()) {
            bytes += p.nbytes();
            Tensor g = p.grad();
            if (g.defined()) {
                bytes += g.nbytes();
            }
        }
        return bytes;
    }

    StageRange range() {
        return range;
    }

    boolean isLast() {
        return last;
    }

    Device device() {
        return device;
    }

    TensorParallelRank tensorParallel() {
        return tensorParallel;
    }

    /** How each split parameter is cut across the tensor-parallel group (none when unsplit). */
    Map<String, ShardLayout> shards() {
        return shards;
    }

    /**
     * Runs micro-batch {@code microBatch} forward. Returns the activation for the next stage, or on the last
     * stage the micro-batch's loss divided by the micro-batch count (so gradients accumulate to the mean).
     */
    Tensor forward(
            int microBatch, Tensor received, Batch slice, ForwardPass pass, boolean recompute, int microBatches) {
        // The micro-batch's own scope: the forward's intermediate tensors lose their Java handles as soon as it
        // ends, so only what autograd saved for backward stays alive, as the memory plan counts. In the step's
        // scope they all lived until the step ended, whatever the schedule (1F1B peaked as GPipe did).
        PointerScope step = PointerScope.getInnerScope();
        try (PointerScope scope = new PointerScope()) {
            if (gathering != null) {
                Tensor input = keep(step, first ? lossFunction.inputs(slice, device) : Tensors.on(received, device));
                return gathering.forward(microBatch, input, blockRun(slice, pass, microBatches), step);
            }
            Tensor input = first
                    ? lossFunction.inputs(slice, device)
                    : Tensors.on(received, device).detach().requires_grad_(true);
            if (recompute) {
                Tensor[] output = new Tensor[1];
                Tensors.withoutGrad(() -> output[0] = run(input, slice, pass, microBatches));
                inFlight.put(microBatch, new InFlight(keep(step, input), null));
                return keep(step, output[0]);
            }
            Tensor output = keep(step, run(input, slice, pass, microBatches));
            inFlight.put(microBatch, new InFlight(keep(step, input), output));
            return output;
        }
    }

    /**
     * A handle of its own on {@code tensor}, owned by the step's scope, which neighbours and backward read it
     * from after the micro-batch's scope closed. A copy of the handle, not the handle itself: a TorchScript
     * block's output is a view into an IValue owned by the micro-batch's scope.
     */
    static Tensor keep(PointerScope step, Tensor tensor) {
        if (tensor == null) {
            return null;
        }
        Tensor owned = new Tensor(tensor);
        if (step != null) {
            step.attach(owned);
        }
        return owned;
    }

    /** Runs micro-batch {@code microBatch} backward; returns the gradient for the previous stage, or null. */
    Tensor backward(int microBatch, Tensor gradOutput, Batch slice, ForwardPass pass, int microBatches) {
        // as in forward: a recomputed forward's intermediates and backward's own tensors die with the micro-batch
        PointerScope step = PointerScope.getInnerScope();
        try (PointerScope scope = new PointerScope()) {
            if (gathering != null) {
                BlockGatheringPasses.BlockRun run = blockRun(slice, pass, microBatches);
                return gathering.backward(
                        microBatch,
                        last ? null : Tensors.on(gradOutput, device),
                        (i, x) -> keepingBuffers(() -> run.run(i, x)),
                        tensorParallel::rethrowHookFailure,
                        !first,
                        step);
            }
            InFlight state = inFlight.remove(microBatch);
            Tensor output = state.output() != null
                    ? state.output()
                    : recomputeInOwnScope(state.input(), slice, pass, microBatches);
            if (last) {
                output.backward();
            } else {
                output.backward(
                        Tensors.on(gradOutput, device), new BoolOptional(), false, new TensorArrayRefOptional());
            }
            tensorParallel.rethrowHookFailure();
            return first ? null : keep(step, state.input().grad());
        }
    }

    /**
     * {@link #recompute} in a scope of its own that closes before backward starts: only what autograd saved stays,
     * and backward frees it block by block as it goes. Without it the recomputed forward's handles held every
     * intermediate until the micro-batch's backward ended (measured: a fifth more than without recomputation).
     */
    private Tensor recomputeInOwnScope(Tensor input, Batch slice, ForwardPass pass, int microBatches) {
        PointerScope backward = PointerScope.getInnerScope();
        try (PointerScope scope = new PointerScope()) {
            return keep(backward, recompute(input, slice, pass, microBatches));
        }
    }

    /**
     * Runs a micro-batch's forward again for its backward. A buffer the forward updates (a running mean, a
     * counter) was already updated by the original forward, so it is put back afterwards: with recomputation a
     * model's buffers end each step as they would without it.
     */
    private Tensor recompute(Tensor input, Batch slice, ForwardPass pass, int microBatches) {
        return keepingBuffers(() -> run(input, slice, pass, microBatches));
    }

    /** Runs a forward again with the buffers put back afterwards (see {@link #recompute}). */
    private Tensor keepingBuffers(java.util.function.Supplier<Tensor> forward) {
        if (buffers.isEmpty()) {
            return forward.get();
        }
        List<Tensor> saved = new ArrayList<>(buffers.size());
        buffers.values().forEach(b -> saved.add(b.clone()));
        Tensor output = forward.get();
        Tensors.withoutGrad(() -> {
            int i = 0;
            for (Tensor b : buffers.values()) {
                b.copy_(saved.get(i++));
            }
        });
        return output;
    }

    /** Forward without autograd for evaluation; returns the activation or, on the last stage, the loss. */
    Tensor evaluate(Tensor received, Batch slice, int microBatches) {
        Tensor input = first ? lossFunction.inputs(slice, device) : Tensors.on(received, device);
        if (gathering != null) {
            return gathering.evaluate(
                    input, blockRun(slice, ForwardPass.evaluation(), microBatches), PointerScope.getInnerScope());
        }
        return run(input, slice, ForwardPass.evaluation(), microBatches);
    }

    private Tensor run(Tensor input, Batch slice, ForwardPass pass, int microBatches) {
        // Each block in a scope of its own: the block's intermediates that autograd did not save go when it ends,
        // not when the micro-batch does. Otherwise a forward peaked with every block's (under tensor parallelism,
        // each all-reduce's copies: measured at about a micro-batch's activations more per device).
        PointerScope outer = PointerScope.getInnerScope();
        BlockGatheringPasses.BlockRun run = blockRun(slice, pass, microBatches);
        Tensor x = input;
        for (int i = 0; i < blocks.size(); i++) {
            try (PointerScope scope = new PointerScope()) {
                x = keep(outer, run.run(i, x));
            }
        }
        return x;
    }

    /** Block i of this stage on x; the last stage's last block is followed by the loss over the micro-batch count. */
    private BlockGatheringPasses.BlockRun blockRun(Batch slice, ForwardPass pass, int microBatches) {
        return (i, x) -> {
            Tensor y = blocks.get(i).forward(x, pass);
            return last && i == blocks.size() - 1
                    ? lossFunction.loss(y, slice, tensorParallel).div(new Scalar((double) microBatches))
                    : y;
        };
    }

    /**
     * Squared L2 norm of each parameter's gradient, in parameter order (0 where there is none). Under tensor
     * parallelism, this rank's slice of a split parameter, and a whole (replicated) parameter on rank 0 only: the
     * sum over the group's ranks is then the whole model's.
     */
    double[] squaredGradientNorms() {
        double[] squares = new double[parameters.size()];
        int i = 0;
        for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
            Tensor g = e.getValue().grad();
            double norm = g.defined() && countsInNorm(e.getKey()) ? g.norm().item_double() : 0;
            squares[i++] = norm * norm;
        }
        return squares;
    }

    /** Replaces each gradient by its mean over the data-parallel replicas. */
    void averageGradients(int stageIndex, ReplicaGroup replicas) {
        List<Tensor> gradients = new ArrayList<>();
        for (Tensor p : parameters.values()) {
            Tensor g = p.grad();
            if (g.defined()) {
                gradients.add(g);
            }
        }
        replicas.averageAll(stageIndex, gradients);
    }

    /**
     * ZeRO: reduce-scatters the gradients (at ZeRO 3 done block by block already), so this process holds its slice
     * of their mean over the replicas; returns the stage's squared gradient norm over all slices (the same on every
     * process).
     */
    double reduceScatterGradients() {
        // at ZeRO 3 each block's backward reduced its gradients already
        return shardsParameters() ? shardedOptimizer.gradientSquares() : shardedOptimizer.reduceGradients();
    }

    /**
     * Replaces this stage's buffers by data-parallel rank 0's (as PyTorch's DistributedDataParallel does): the
     * replicas see different rows, so running statistics would drift apart, and a checkpoint (rank 0's) would
     * not be what the other replicas trained with.
     */
    void adoptRankZeroBuffers(int stageIndex, ReplicaGroup replicas) {
        if (!buffers.isEmpty()) {
            replicas.broadcastFromRankZero(stageIndex, List.copyOf(buffers.values()));
        }
    }

    void scaleGradients(double factor) {
        if (sharded()) {
            shardedOptimizer.scaleGradients(factor);
            return;
        }
        Tensors.withoutGrad(() -> {
            for (Tensor p : parameters.values()) {
                Tensor g = p.grad();
                if (g.defined()) {
                    g.mul_(new Scalar(factor));
                }
            }
        });
    }

    void applyOptimizer(long optimizerStep, double learningRate, double weightDecay) {
        if (sharded()) {
            shardedOptimizer.step(optimizerStep, learningRate, weightDecay);
        } else {
            optimizer.step(optimizerStep, learningRate, weightDecay);
        }
    }

    void zeroGradients() {
        for (Tensor p : parameters.values()) {
            Tensor g = p.grad();
            if (g.defined()) {
                g.zero_();
            }
        }
    }

    /** The whole parameters; at ZeRO 3 between steps, a collective every data-parallel process must join. */
    List<HostTensor> parametersToHost() {
        if (sharded()) {
            return shardedOptimizer.parametersToHost();
        }
        List<HostTensor> host = new ArrayList<>();
        parameters.forEach((name, p) -> host.add(Tensors.toHost(name, p)));
        return host;
    }

    List<HostTensor> buffersToHost() {
        List<HostTensor> host = new ArrayList<>();
        buffers.forEach((name, b) -> host.add(Tensors.toHost(name, b)));
        return host;
    }

    /** The full first moments; when sharded, a collective every data-parallel process must join. */
    List<HostTensor> firstMomentsToHost() {
        return sharded() ? shardedOptimizer.firstMomentsToHost() : optimizer.firstMomentsToHost();
    }

    /** The full second moments; when sharded, a collective every data-parallel process must join. */
    List<HostTensor> secondMomentsToHost() {
        return sharded() ? shardedOptimizer.secondMomentsToHost() : optimizer.secondMomentsToHost();
    }

    /**
     * This stage's parameters, buffers, first and second AdamW moments, each by name in the order of {@link
     * #parametersToHost()} and the others: the tensors themselves, for a checkpoint's capture to copy off the Java
     * heap. Unsharded stages only (a ZeRO-sharded one gathers its state to capture it).
     */
    List<Map<String, Tensor>> stateTensors() {
        if (sharded()) {
            throw new IllegalStateException("a ZeRO-sharded stage is captured by gathering");
        }
        return List.of(parameters, buffers, optimizer.moments(true), optimizer.moments(false));
    }

    /** The ZeRO slices of parameters and moments this process owns (see {@link ShardedAdamW#ownedSlices()}). */
    List<ShardedAdamW.OwnedSlice> ownedSlices() {
        return shardedOptimizer.ownedSlices();
    }

    /**
     * Loads this stage's part of a checkpoint, by name, tensor by tensor: of a split parameter (and its moments)
     * only this rank's slice is read, and of ZeRO-sharded state only this process's slices. Buffers are restored where the checkpoint has them; one written before
     * checkpoints carried buffers leaves the module's own values.
     */
    void load(TensorSource params, TensorSource buffersByName, TensorSource first, TensorSource second) {
        if (!shards.isEmpty()) {
            params = params.sliced(shards, tensorParallel.rank(), tensorParallel.size());
            first = first.sliced(shards, tensorParallel.rank(), tensorParallel.size());
            second = second.sliced(shards, tensorParallel.rank(), tensorParallel.size());
        }
        TensorSource whole = params;
        if (shardsParameters()) {
            shardedOptimizer.loadParameterSlices(whole); // ZeRO 3: only this process's slices are read
        } else {
            parameters.forEach((name, p) -> Tensors.copyInto(p, whole.require(name)));
        }
        buffers.forEach((name, b) -> {
            HostTensor saved = buffersByName.find(name);
            if (saved != null) {
                Tensors.copyInto(b, saved);
            }
        });
        if (sharded()) {
            shardedOptimizer.load(first, second);
        } else {
            optimizer.load(first, second);
        }
    }

    /** This rank's slices of the split parameters' whole tensors (AdamW's moments are named like them). */
    private Map<String, HostTensor> sliced(Map<String, HostTensor> whole) {
        Map<String, HostTensor> local = new HashMap<>(whole);
        shards.forEach((name, layout) -> {
            HostTensor t = whole.get(name);
            if (t != null) {
                local.put(name, layout.slice(t, tensorParallel.rank(), tensorParallel.size()));
            }
        });
        return local;
    }
}
