package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.Batch;
import dev.trainyard.runner.engine.CapturedModel;
import dev.trainyard.runner.engine.CapturedPiece;
import dev.trainyard.runner.engine.CapturedShard;
import dev.trainyard.runner.engine.CapturedTensor;
import dev.trainyard.runner.engine.CheckpointReader;
import dev.trainyard.runner.engine.CheckpointState;
import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.DeviceMemory;
import dev.trainyard.runner.engine.EngineSession;
import dev.trainyard.runner.engine.HostTensor;
import dev.trainyard.runner.engine.MemoryPlanner;
import dev.trainyard.runner.engine.ModelFile;
import dev.trainyard.runner.engine.ModelShard;
import dev.trainyard.runner.engine.ModelState;
import dev.trainyard.runner.engine.PipelineGroup;
import dev.trainyard.runner.engine.PipelineSchedule;
import dev.trainyard.runner.engine.ShardLayout;
import dev.trainyard.runner.engine.SpecException;
import dev.trainyard.runner.engine.StagePlan;
import dev.trainyard.runner.engine.StepOutcome;
import dev.trainyard.runner.engine.StepParameters;
import dev.trainyard.runner.engine.StopRequest;
import dev.trainyard.runner.engine.TensorPiece;
import dev.trainyard.runner.engine.TensorSource;
import dev.trainyard.runner.engine.TensorValues;
import dev.trainyard.runner.engine.TrainingData;
import dev.trainyard.runner.engine.TrainingListener;
import dev.trainyard.runner.engine.TrainingPlan;
import dev.trainyard.runner.engine.TrainingRun;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.MemoryEstimate;
import dev.trainyard.spec.ModelLayout;
import dev.trainyard.spec.ModelSpec;
import dev.trainyard.spec.StagePartitioner;
import dev.trainyard.spec.StageRange;
import dev.trainyard.spec.TrainingSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

/**
 * One run's model on libtorch: its blocks (built, or loaded from TorchScript), the stages they are cut into,
 * the pipeline that runs them, and the collectives with the other data-parallel replicas.
 */
final class TorchSession implements EngineSession {

    private final TrainingRun run;
    private final JobSpec spec;
    private final TrainingSpec training;
    private final TrainingListener listener;
    private final DataParallelGroup replica;
    private final int threads;
    private final LossFunction lossFunction;
    private final int tensorParallel;
    /** Every block, as tensor-parallel rank 0 holds it (all of them without tensor parallelism). */
    private final List<ModelBlock> blocks;
    /** Each tensor-parallel rank's blocks (just {@link #blocks} without tensor parallelism). */
    private final List<List<ModelBlock>> rankBlocks = new ArrayList<>();
    /** Each stage's tensor-parallel group, one member per rank; empty without tensor parallelism. */
    private final List<List<DeviceGroup>> stageGroups = new ArrayList<>();

    private final ReplicaGroup replicas;
    /** This process's part of a pipeline spread over processes (the whole pipeline by default). */
    private final PipelineGroup pipelineRank;
    /** The links to the other pipeline ranks; null when this process runs every stage. */
    private PipelineLinks links;
    /** The whole pipeline's stage count (this process may run only some of the stages). */
    private int totalStages;

    private final TrainingPlan plan;
    /** Whether the parameters held after the first step were logged. */
    private boolean reportedParameters;

    private ModelLayout layout;
    private ScriptedModel scripted;
    private PipelineEngine pipeline;

    TorchSession(TrainingRun run, TrainingData data, int threads) {
        this.run = run;
        this.spec = run.spec();
        this.training = spec.training();
        this.listener = run.listener();
        this.replica = run.dataParallel();
        this.threads = threads;
        NativeRuntime.configureThread(threads);
        this.lossFunction = new LossFunction(spec.model());
        this.tensorParallel = spec.parallelism().tensorParallelOrDefault();
        this.pipelineRank = run.pipeline();
        if (pipelineRank.isDistributed()) {
            requireCrossProcessPipelineSupported();
            List<StageRange> ranges;
            if (tensorParallel > 1) {
                // cut as one process cuts the same tensor-parallel pipeline; only this process's stages get groups
                ranges = partitionByParameters(pipelineRank.stages());
                this.blocks = buildSplitModel(ranges);
            } else {
                this.blocks = buildModel(data);
                rankBlocks.add(blocks);
                ranges = partitionWholeByParameters();
            }
            this.plan = planPipelineRank(ranges);
            this.replicas = joinReplicasOfStages();
            return;
        }
        if (tensorParallel > 1) {
            requireTensorParallelSupported();
            List<StageRange> ranges = partitionByParameters(run.stageCount());
            this.blocks = buildSplitModel(ranges);
            ReplicaGroup joined = null;
            try {
                // each process runs a whole tensor-parallel pipeline; its lanes meet the other processes' same lanes
                joined = replica.isDistributed()
                        ? new ReplicaGroup(replica, ranges.size(), tensorParallel, run.stopSignal()::abandoned)
                        : null;
                this.plan = plan(ranges);
            } catch (RuntimeException e) {
                if (joined != null) {
                    joined.close();
                }
                stageGroups.forEach(DeviceGroup::closeAll);
                throw e;
            }
            this.replicas = joined;
            return;
        }
        this.blocks = buildModel(data);
        rankBlocks.add(blocks);
        this.replicas = replica.isDistributed()
                ? new ReplicaGroup(replica, run.stageCount(), run.stopSignal()::abandoned)
                : null;
        try {
            this.plan = plan(partition(data, run.stageCount()));
        } catch (RuntimeException e) {
            if (replicas != null) {
                replicas.close();
            }
            throw e;
        }
    }

    private void requireCrossProcessPipelineSupported() {
        if (tensorParallel > 1) {
            requireTensorParallelSupported();
        }
        // a process may hold several replicas (an elastic job running on fewer cut replicas): it trains their rows
        // together, every pipeline rank of its replica with the same micro-batch rows, as a whole replica does
        Integer stages = spec.parallelism().stages();
        if (stages == null || stages != pipelineRank.stages()) {
            throw new SpecException("parallelism.stages is " + stages + " but this process was given stages of a"
                    + " pipeline of " + pipelineRank.stages());
        }
    }

    /**
     * Cuts the model into the whole pipeline's stages by parameter counts (every rank must cut identically, and
     * profiled times differ between processes). Every block is built, so each rank initialises its blocks exactly as
     * a single process would from the seed; the blocks of other ranks' stages are left to the garbage collector.
     */
    private List<StageRange> partitionWholeByParameters() {
        if (pipelineRank.stages() > blocks.size()) {
            throw new SpecException(
                    pipelineRank.stages() + " stages asked for a model of only " + blocks.size() + " blocks");
        }
        if (!spec.parallelism().balance().equals("params")) {
            listener.onLog("a pipeline spread over processes is cut by parameter counts (balance \"params\"):"
                    + " every process must cut it identically");
        }
        return StagePartitioner.byParameters(layout, pipelineRank.stages());
    }

    /** Joins the other ranks and plans this process's stages of the whole pipeline's {@code ranges}. */
    private TrainingPlan planPipelineRank(List<StageRange> ranges) {
        totalStages = pipelineRank.stages();
        int ranks = rankBlocks.size();
        // the squares each stage's each tensor rank hands in for the global norm: one per parameter, or, where ZeRO
        // shards the stage over its replicas, the lane's whole sum (see PipelineStage#reduceScatterGradients)
        boolean zeroSharded = spec.parallelism().zeroStage() > 0 && replica.processes() > 1;
        int[] squaresPerLane = new int[totalStages * ranks];
        for (StageRange range : ranges) {
            for (int r = 0; r < ranks; r++) {
                int lane = range.stage() * ranks + r;
                for (ModelBlock block : rankBlocks.get(r).subList(range.firstBlock(), range.endBlock())) {
                    squaresPerLane[lane] = zeroSharded
                            ? 1
                            : squaresPerLane[lane] + block.parameters().size();
                }
            }
        }
        List<StageRange> mine = ranges.subList(pipelineRank.firstStage(), pipelineRank.endStage());
        try {
            links = new PipelineLinks(
                    pipelineRank,
                    squaresPerLane,
                    ranks,
                    NativeRuntime.device(NativeRuntime.deviceName(0)),
                    NativeRuntime.device(NativeRuntime.deviceName((mine.size() - 1) * ranks)),
                    run.stopSignal()::abandoned,
                    () -> pipeline != null && pipeline.aborted());
            return plan(mine);
        } catch (RuntimeException e) {
            if (links != null) {
                links.close();
            }
            stageGroups.forEach(DeviceGroup::closeAll);
            throw e;
        }
    }

    /**
     * The processes holding this process's stages in the other replicas (see {@link
     * dev.trainyard.runner.engine.ProcessGrid}): one lane group per local stage, for the gradient average or the
     * ZeRO shards; with tensor parallelism one per (local stage, tensor rank), lane s x t + r. Joined after the
     * pipeline's links: each replica's pipeline forms first, whatever the others do.
     */
    private ReplicaGroup joinReplicasOfStages() {
        if (!replica.isDistributed()) {
            return null;
        }
        try {
            return new ReplicaGroup(replica, plan.stages().size(), tensorParallel, run.stopSignal()::abandoned);
        } catch (RuntimeException e) {
            links.close();
            stageGroups.forEach(DeviceGroup::closeAll);
            throw e;
        }
    }

    private void requireTensorParallelSupported() {
        if (!(spec.model() instanceof ModelSpec.Gpt)) {
            throw new SpecException("parallelism.tensorParallel " + tensorParallel + " splits gpt models only");
        }
    }

    /**
     * Tensor parallelism cuts stages by parameter counts (the {@code params} balance): profiling the split blocks
     * would need their groups, which need the cut.
     */
    private List<StageRange> partitionByParameters(int stageCount) {
        layout = ModelLayout.of(spec.model(), tensorParallel);
        if (stageCount > layout.blocks().size()) {
            throw new SpecException(stageCount + " stages asked for a model of only "
                    + layout.blocks().size() + " blocks");
        }
        return stageCount == 1
                ? List.of(new StageRange(0, 0, layout.blocks().size()))
                : StagePartitioner.byParameters(layout, stageCount);
    }

    /**
     * Joins each stage's tensor-parallel group (one device per rank) and builds every rank's blocks, each block
     * holding its rank's slices and the group of the stage it belongs to. Returns rank 0's blocks. Where the
     * pipeline spans processes, only this process's stages get groups and devices: the others' blocks are built
     * (so every block is initialised as in one process) with a group-less place, never run, and dropped.
     */
    private List<ModelBlock> buildSplitModel(List<StageRange> ranges) {
        TensorParallelRank[][] places = new TensorParallelRank[ranges.size()][tensorParallel];
        try {
            for (StageRange range : ranges) {
                if (!isLocal(range)) {
                    for (int r = 0; r < tensorParallel; r++) {
                        places[range.stage()][r] = new TensorParallelRank(r, tensorParallel, null);
                    }
                    continue;
                }
                List<Device> devices = new ArrayList<>();
                for (int r = 0; r < tensorParallel; r++) {
                    devices.add(NativeRuntime.device(NativeRuntime.deviceName(deviceIndex(range, r))));
                }
                List<DeviceGroup> group = DeviceGroup.open(
                        devices, DataParallelGroup.DEFAULT_TIMEOUT, () -> pipeline != null && pipeline.aborted());
                stageGroups.add(group);
                for (int r = 0; r < tensorParallel; r++) {
                    places[range.stage()][r] = new TensorParallelRank(r, tensorParallel, group.get(r));
                }
            }
        } catch (RuntimeException e) {
            stageGroups.forEach(DeviceGroup::closeAll);
            throw e;
        }
        int[] stageOfBlock = new int[layout.blocks().size()];
        ranges.forEach(range -> Arrays.fill(stageOfBlock, range.firstBlock(), range.endBlock(), range.stage()));
        for (int r = 0; r < tensorParallel; r++) {
            int rank = r;
            rankBlocks.add(
                    ModelFactory.build(spec.model(), training.seed(), block -> places[stageOfBlock[block]][rank]));
        }
        return rankBlocks.get(0);
    }

    private boolean isLocal(StageRange range) {
        return !pipelineRank.isDistributed()
                || range.stage() >= pipelineRank.firstStage() && range.stage() < pipelineRank.endStage();
    }

    /** This process's device for tensor rank {@code rank} of {@code range}'s stage: its stages count from 0. */
    private int deviceIndex(StageRange range, int rank) {
        int firstHere = pipelineRank.isDistributed() ? pipelineRank.firstStage() : 0;
        return (range.stage() - firstHere) * tensorParallel + rank;
    }

    @Override
    public TrainingPlan plan() {
        return plan;
    }

    @Override
    public List<DeviceMemory> measuredMemory() {
        long[] measured = pipeline == null ? new long[0] : pipeline.lastStateBytes();
        long[] peaks = pipeline == null ? new long[0] : pipeline.lastPeakBytes();
        List<DeviceMemory> devices = new ArrayList<>();
        for (int lane = 0; lane < measured.length; lane++) {
            StagePlan stage = plan.stages().get(lane / tensorParallel);
            MemoryEstimate m = stage.memory();
            devices.add(new DeviceMemory(
                    stage.range().stage(),
                    lane % tensorParallel,
                    tensorParallel == 1 ? stage.device() : NativeRuntime.deviceName(lane),
                    m.parameterBytes() + m.gradientBytes() + m.optimizerBytes(),
                    m.totalBytes(),
                    measured[lane],
                    peaks[lane]));
        }
        return devices;
    }

    @Override
    public void build() {
        List<PipelineStage> stages = new ArrayList<>();
        for (StagePlan stagePlan : plan.stages()) {
            StageRange range = stagePlan.range();
            for (int r = 0; r < tensorParallel; r++) {
                String device =
                        tensorParallel == 1 ? stagePlan.device() : NativeRuntime.deviceName(deviceIndex(range, r));
                stages.add(new PipelineStage(
                        range,
                        rankBlocks.get(r).subList(range.firstBlock(), range.endBlock()),
                        NativeRuntime.device(device),
                        lossFunction,
                        totalStages,
                        spec.parallelism().zeroStage(),
                        replicas,
                        plan.stages().get(0).range().stage()));
            }
        }
        pipeline = new PipelineEngine(
                stages,
                tensorParallel,
                plan.schedule(),
                plan.microBatches(),
                plan.recompute(),
                threads,
                training.bf16(),
                replicas,
                links);
        reportOptimizerState(stages);
    }

    /**
     * The AdamW bytes this process holds, measured from its moment tensors, beside what it would hold unsharded
     * (with tensor parallelism, all of its ranks' slices and replicated copies).
     */
    private void reportOptimizerState(List<PipelineStage> stages) {
        long held =
                stages.stream().mapToLong(PipelineStage::optimizerStateBytes).sum();
        long whole = stages.stream()
                .mapToLong(PipelineStage::unshardedOptimizerStateBytes)
                .sum();
        int zero = captureIsCollective() ? spec.parallelism().zeroStage() : 0;
        listener.onLog(String.format(
                java.util.Locale.ROOT,
                "AdamW state on this process: %d bytes (ZeRO %d over %d processes; unsharded %d bytes)",
                held,
                zero,
                replicas == null ? 1 : replicas.processes(),
                whole));
    }

    /** With ZeRO sharding, capturing gathers the moment shards: every data-parallel process must take part. */
    @Override
    public boolean captureIsCollective() {
        return links != null || pipeline != null && pipeline.stages().stream().anyMatch(PipelineStage::sharded);
    }

    @Override
    public void restore(CheckpointState state) {
        restore(
                TensorSource.of(state.parameters()),
                TensorSource.of(state.buffers()),
                TensorSource.of(state.firstMoments()),
                TensorSource.of(state.secondMoments()));
    }

    /** Each stage reads its own slices' regions, tensor by tensor, straight into its tensors. */
    @Override
    public void restore(CheckpointReader checkpoint) {
        restore(checkpoint.parameters(), checkpoint.buffers(), checkpoint.firstMoments(), checkpoint.secondMoments());
    }

    private void restore(TensorSource params, TensorSource buffers, TensorSource first, TensorSource second) {
        try (var scope = new PointerScope()) {
            pipeline.stages().forEach(stage -> stage.load(params, buffers, first, second));
        }
    }

    @Override
    public StepOutcome trainStep(Batch batch, StepParameters parameters) {
        StepOutcome outcome = pipeline.trainStep(batch, parameters);
        if (!reportedParameters) {
            reportParametersHeld();
            reportedParameters = true;
        }
        return outcome;
    }

    /**
     * The parameter bytes this process's tensors hold after its first step (so between steps), beside the whole
     * stages' size: at ZeRO 3 over n processes about 1/n of it. And the most full parameters one stage held at
     * once during that step, beside its largest block and the largest stage: at ZeRO 3 two neighbouring blocks' at
     * most (one running, the next one's all-gather in flight).
     */
    private void reportParametersHeld() {
        List<PipelineStage> stages = pipeline.stages();
        listener.onLog(String.format(
                java.util.Locale.ROOT,
                "parameters on this process between steps: %d bytes (whole %d bytes)",
                stages.stream().mapToLong(PipelineStage::heldParameterBytes).sum(),
                stages.stream().mapToLong(PipelineStage::wholeParameterBytes).sum()));
        listener.onLog(String.format(
                java.util.Locale.ROOT,
                "whole parameters held at once during a step: %d bytes per stage at most (largest block %d bytes,"
                        + " largest stage %d bytes)",
                maxOver(stages, PipelineStage::peakWholeParameterBytes),
                maxOver(stages, PipelineStage::largestBlockParameterBytes),
                maxOver(stages, PipelineStage::wholeParameterBytes)));
    }

    private static long maxOver(List<PipelineStage> stages, java.util.function.ToLongFunction<PipelineStage> bytes) {
        return stages.stream().mapToLong(bytes).max().orElse(0);
    }

    @Override
    public double evaluate(Batch batch) {
        return pipeline.evaluate(batch);
    }

    @Override
    public ModelState capture() {
        try (var scope = new PointerScope()) {
            List<List<HostTensor>> parts = gathered(List.of(
                    whole(PipelineStage::parametersToHost),
                    whole(PipelineStage::buffersToHost),
                    whole(PipelineStage::firstMomentsToHost),
                    whole(PipelineStage::secondMomentsToHost)));
            return new ModelState(parts.get(0), parts.get(1), parts.get(2), parts.get(3));
        }
    }

    /**
     * Native CPU copies of every stage's state, written from there (no Java heap of the state's size), where this
     * process holds its whole pipeline untouched by other processes and each stage has one tensor rank; otherwise
     * (state gathered from other processes or joined from tensor ranks) {@link #capture()}'s Java copy.
     */
    @Override
    public CapturedModel captureForCheckpoint() {
        if (links != null || captureIsCollective() || pipeline.ranks() > 1) {
            return CapturedModel.of(capture());
        }
        List<List<CapturedTensor>> kinds =
                capturedKinds((kind, tensors) -> NativeTensorValues.capture(tensors), CapturedTensor::values);
        return new CapturedModel(kinds.get(0), kinds.get(1), kinds.get(2), kinds.get(3));
    }

    /**
     * This process's equal share of each tensor as native copies of just that share, where no stage is ZeRO-sharded
     * and each has one tensor rank (pieces and regions as {@link #captureShard} cuts them: the same file); otherwise
     * {@link #captureShard}'s Java copy.
     */
    @Override
    public CapturedShard captureShardForCheckpoint(int writer, int writers) {
        if (pipeline.ranks() > 1 || pipeline.stages().stream().anyMatch(PipelineStage::sharded)) {
            return CapturedShard.of(captureShard(writer, writers));
        }
        List<List<CapturedPiece>> kinds = capturedKinds(
                (kind, tensors) -> kind != BUFFERS
                        ? NativeTensorValues.share(tensors, writer, writers)
                        // buffers, small, are written by writer 0 alone (as ModelShard.share)
                        : writer == 0 ? NativeTensorValues.share(tensors, 0, 1) : List.of(),
                CapturedPiece::values);
        return new CapturedShard(kinds.get(0), kinds.get(1), kinds.get(2), kinds.get(3));
    }

    private static final int BUFFERS = 1;

    /**
     * Every stage's parameters, buffers, first and second moments (kinds 0 to 3), each kind's tensors by name
     * captured by {@code copy}; what was copied is released again when a copy fails.
     */
    private <T> List<List<T>> capturedKinds(
            BiFunction<Integer, Map<String, Tensor>, List<T>> copy, Function<T, TensorValues> values) {
        List<List<T>> kinds = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        try (var scope = new PointerScope()) {
            for (PipelineStage stage : pipeline.stages()) {
                List<Map<String, Tensor>> state = stage.stateTensors();
                for (int k = 0; k < kinds.size(); k++) {
                    kinds.get(k).addAll(copy.apply(k, state.get(k)));
                }
            }
        } catch (RuntimeException e) {
            kinds.forEach(kind -> kind.forEach(t -> values.apply(t).release()));
            throw e;
        }
        return kinds;
    }

    /**
     * Where the pipeline spans processes, rank 0 gets every rank's stages' state (the others send theirs): so a
     * checkpoint is whole and resumes on any layout. Otherwise this process's state.
     */
    private List<List<HostTensor>> gathered(List<List<HostTensor>> local) {
        return links == null ? local : links.gatherToRankZero(local);
    }

    @Override
    public void joinExport() {
        // across processes, or ZeRO 3 gathering each stage's parameter slices for rank 0's export
        if (links != null || pipeline != null && pipeline.stages().stream().anyMatch(PipelineStage::shardsParameters)) {
            try (var scope = new PointerScope()) {
                gathered(List.of(whole(PipelineStage::parametersToHost), whole(PipelineStage::buffersToHost)));
            }
        }
    }

    /**
     * One kind of state of every stage as whole tensors by global name: the tensor-parallel ranks' slices of a
     * split parameter (or of its moments) joined, a whole one taken from rank 0. So checkpoints and exports do
     * not depend on the group size, and a checkpoint written at one size resumes at any other.
     */
    private List<HostTensor> whole(Function<PipelineStage, List<HostTensor>> part) {
        List<HostTensor> tensors = new ArrayList<>();
        for (List<PipelineStage> group : tensorParallelGroups()) {
            tensors.addAll(whole(group, part));
        }
        return tensors;
    }

    /** Each stage's tensor-parallel ranks, stage by stage (one rank each without tensor parallelism). */
    private List<List<PipelineStage>> tensorParallelGroups() {
        List<PipelineStage> all = pipeline.stages();
        int ranks = pipeline.ranks();
        List<List<PipelineStage>> groups = new ArrayList<>();
        for (int first = 0; first < all.size(); first += ranks) {
            groups.add(all.subList(first, first + ranks));
        }
        return groups;
    }

    /** One stage's state as whole tensors, its ranks' slices joined in this process. */
    private static List<HostTensor> whole(List<PipelineStage> group, Function<PipelineStage, List<HostTensor>> part) {
        List<List<HostTensor>> byRank = group.stream().map(part).toList();
        Map<String, ShardLayout> shards = group.get(0).shards();
        List<HostTensor> tensors = new ArrayList<>();
        for (int k = 0; k < byRank.get(0).size(); k++) {
            HostTensor rankZero = byRank.get(0).get(k);
            ShardLayout layout = shards.get(rankZero.name());
            int index = k;
            tensors.add(
                    layout == null
                            ? rankZero
                            : layout.gather(
                                    byRank.stream().map(l -> l.get(index)).toList()));
        }
        return tensors;
    }

    /**
     * This process's own pieces, without any collective: of a stage whose state ZeRO shards over the processes,
     * the slices it owns (each tensor-parallel rank's, placed in the whole tensor); of any other stage, which
     * every data-parallel process holds alike, its equal share. So each process writes about 1/n of the state.
     */
    @Override
    public ModelShard captureShard(int writer, int writers) {
        List<TensorPiece> params = new ArrayList<>();
        List<TensorPiece> buffers = new ArrayList<>();
        List<TensorPiece> first = new ArrayList<>();
        List<TensorPiece> second = new ArrayList<>();
        try (var scope = new PointerScope()) {
            for (List<PipelineStage> group : tensorParallelGroups()) {
                ModelShard shard = group.get(0).sharded()
                        ? ownedPieces(group, writer, writers)
                        : ModelShard.share(
                                new ModelState(
                                        whole(group, PipelineStage::parametersToHost),
                                        whole(group, PipelineStage::buffersToHost),
                                        whole(group, PipelineStage::firstMomentsToHost),
                                        whole(group, PipelineStage::secondMomentsToHost)),
                                writer,
                                writers);
                params.addAll(shard.parameters());
                buffers.addAll(shard.buffers());
                first.addAll(shard.firstMoments());
                second.addAll(shard.secondMoments());
            }
        }
        return new ModelShard(params, buffers, first, second);
    }

    /**
     * A ZeRO-sharded stage's pieces: each rank's owned runs of its (possibly tensor-split) parameters and moments,
     * as regions of the whole tensors. A parameter every tensor rank holds whole is written by rank 0's runs.
     */
    private static ModelShard ownedPieces(List<PipelineStage> group, int writer, int writers) {
        List<TensorPiece> params = new ArrayList<>();
        List<TensorPiece> first = new ArrayList<>();
        List<TensorPiece> second = new ArrayList<>();
        Map<String, ShardLayout> shards = group.get(0).shards();
        for (int rank = 0; rank < group.size(); rank++) {
            for (ShardedAdamW.OwnedSlice owned : group.get(rank).ownedSlices()) {
                ShardLayout layout = shards.get(owned.name());
                if (layout == null && rank > 0) {
                    continue;
                }
                params.addAll(placed(owned, owned.parameter(), layout, rank, group.size()));
                first.addAll(placed(owned, owned.first(), layout, rank, group.size()));
                second.addAll(placed(owned, owned.second(), layout, rank, group.size()));
            }
        }
        List<TensorPiece> buffers = new ArrayList<>();
        if (writer == 0) {
            whole(group, PipelineStage::buffersToHost).forEach(b -> buffers.add(TensorPiece.of(b)));
        }
        return new ModelShard(params, buffers, first, second);
    }

    /** A flat run of a rank's tensor as pieces of the whole tensor. */
    private static List<TensorPiece> placed(
            ShardedAdamW.OwnedSlice owned, float[] values, ShardLayout layout, int rank, int ranks) {
        List<TensorPiece> local = TensorPiece.ofFlatRange(owned.name(), owned.shape(), owned.from(), values);
        if (layout == null) {
            return local;
        }
        List<TensorPiece> whole = new ArrayList<>();
        local.forEach(piece -> whole.addAll(layout.toWhole(piece, rank, ranks)));
        return whole;
    }

    /**
     * Across a pipeline spread over processes, first within this replica's pipeline, then among the replicas of
     * this process's stages: after the first every rank of a pipeline holds its pipeline's maximum, so the second
     * gives every process the job's.
     */
    @Override
    public StopRequest agree(StopRequest local) {
        if (links != null) {
            int pipelineMaximum = links.agreeOnMaximum(local.ordinal());
            return StopRequest.values()[replicas == null ? pipelineMaximum : replicas.agreeOnMaximum(pipelineMaximum)];
        }
        return replicas == null ? local : StopRequest.values()[replicas.agreeOnMaximum(local.ordinal())];
    }

    @Override
    public Path export(Path directory) {
        Path exported;
        try (var scope = new PointerScope()) {
            List<List<HostTensor>> state =
                    gathered(List.of(whole(PipelineStage::parametersToHost), whole(PipelineStage::buffersToHost)));
            exported = ModelExport.write(directory, spec, state.get(0), state.get(1));
            if (scripted != null) {
                // ZeRO 3 keeps slices only: the module is saved with the whole parameters put back for the moment
                Map<String, HostTensor> params = byName(state.get(0));
                pipeline.stages().forEach(stage -> stage.restoreWholeParameters(params));
                scripted.save(exported.resolveSibling("model.pt"));
                pipeline.stages().forEach(PipelineStage::releaseParameters);
            }
        }
        return exported;
    }

    /** Stops the stage threads, then deletes the replicas' native groups and stores (see {@link ReplicaGroup}). */
    @Override
    public void close() {
        if (pipeline != null) {
            pipeline.close();
        }
        if (replicas != null) {
            replicas.close();
        }
        if (links != null) {
            links.close();
        }
        stageGroups.forEach(DeviceGroup::closeAll);
        stageGroups.clear();
    }

    private static Map<String, HostTensor> byName(List<HostTensor> tensors) {
        return tensors.stream().collect(Collectors.toMap(HostTensor::name, Function.identity()));
    }

    /** The model's blocks; also sets the layout (for a TorchScript module, measured on one micro-batch). */
    private List<ModelBlock> buildModel(TrainingData data) {
        if (!(spec.model() instanceof ModelSpec.TorchScript script)) {
            layout = ModelLayout.of(spec.model());
            return ModelFactory.build(spec.model(), training.seed());
        }
        scripted = ScriptedModel.load(
                ModelFile.resolve(script.uri(), run.outputDir().resolve("cache"), run.dataFetcher()));
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

    private List<StageRange> partition(TrainingData data, int stageCount) {
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

    private TrainingPlan plan(List<StageRange> ranges) {
        if (links == null) {
            totalStages = ranges.size();
        }
        int firstStage = ranges.get(0).stage();
        var parallelism = spec.parallelism();
        List<StagePlan> stagePlans = new ArrayList<>();
        for (StageRange range : ranges) {
            long params = layout.blocks().subList(range.firstBlock(), range.endBlock()).stream()
                    .mapToLong(b -> b.parameters())
                    .sum();
            stagePlans.add(new StagePlan(
                    range,
                    NativeRuntime.deviceName(range.stage() - firstStage),
                    params,
                    MemoryPlanner.estimate(
                            layout,
                            range,
                            totalStages,
                            PipelineSchedule.named(parallelism.schedule()),
                            parallelism.microBatches(),
                            microBatchRows(),
                            parallelism.recompute(),
                            parallelism.zeroStage(),
                            replica.processes())));
        }
        long limit = run.memoryLimitBytes() > 0 ? run.memoryLimitBytes() : MemoryPlanner.hostAvailableBytes();
        return new TrainingPlan(
                stagePlans,
                PipelineSchedule.named(parallelism.schedule()),
                parallelism.microBatches(),
                parallelism.recompute(),
                threads,
                tensorParallel > 1 ? ModelLayout.of(spec.model()).parameters() : layout.parameters(),
                limit);
    }

    private int microBatchRows() {
        return training.batchSize() / spec.parallelism().microBatches() / replica.replicas() * replica.localReplicas();
    }
}
