package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.HostTensor;
import dev.trainyard.runner.engine.PeerLostException;
import dev.trainyard.runner.engine.PipelineGroup;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.LayoutOptional;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The links of a pipeline spread over processes (see {@link PipelineGroup}): for each boundary between
 * neighbouring pipeline ranks a process group of the two (Gloo, NCCL where the boundary's stages are on CUDA)
 * carrying activations forward and gradients backward point to point, and a control group of all ranks (Gloo)
 * for what they must agree on: the global gradient norm, the loss, when to stop, and the model rank 0 exports.
 * With data-parallel replicas each replica's pipeline has links of its own (see
 * {@link dev.trainyard.runner.engine.ProcessGrid}).
 *
 * <p>Each group has its own store on its own port (one JavaCPP-owned store must not back two groups: see
 * {@link ReplicaGroup}); rank 0 opens them all on ports its system picks and announces them in the control store.
 *
 * <p>Waits: a point-to-point wait cannot be cut into slices (libtorch completes a Gloo send or receive whose wait
 * timed out, with the error), so it blocks, bounded by the group's timeout, and a watcher thread aborts it once
 * the run is abandoned or another stage of this process failed. Collectives on the control group wait in slices.
 */
final class PipelineLinks implements AutoCloseable {

    private static final long WAIT_SLICE_MS = StoreRendezvous.WAIT_SLICE_MS;
    private static final String CHECK_IN_KEY = "trainyard/pipeline-checked-in";
    private static final String BOUNDARY_PORT_KEY = "trainyard/pipeline-boundary-port/";
    /** Header of a tensor sent between stages: its type, its rank, up to this many sizes. */
    private static final int HEADER = 2 + 6;

    private final PipelineGroup group;
    /** Per lane of the whole pipeline (stage s, tensor-parallel rank r at s x ranks + r). */
    private final int[] squaresPerLane;
    /** Tensor-parallel ranks per stage. */
    private final int ranks;

    private final BooleanSupplier abandoned;
    private final BooleanSupplier stageFailed;
    private final StoreRendezvous rendezvous;
    private final Backend control;
    /** The boundary with rank - 1 (this process is its rank 1), or null on rank 0. */
    private final Backend lower;
    /** The boundary with rank + 1 (this process is its rank 0), or null on the last rank. */
    private final Backend upper;

    private final boolean lowerCuda;
    private final boolean upperCuda;
    /** Where tensors received over each boundary are placed: the device of the stage rank that receives them. */
    private final Device lowerDevice;

    private final Device upperDevice;
    private final Set<Work> waiting = new HashSet<>();
    /** The receiving ends with threads of their own, stopped before the groups are deleted. */
    private final List<ReceiveAheadLink> receivers = new ArrayList<>();

    private final Thread watcher;
    /** A collective given up while still running: its group must outlive it, so nothing is released. */
    private volatile boolean keepNatives;

    private volatile boolean closed;

    /**
     * @param squaresPerStage how many squared norms each of the pipeline's stages hands in for the global gradient
     *     norm (all ranks agree): one per parameter tensor, or one per stage where ZeRO shards the stages
     * @param lowerDevice the device of this process's first stage; {@code upperDevice} of its last
     * @param abandoned polled while waiting: once true, waits end with a {@link PeerLostException}
     * @param stageFailed polled while waiting: once true (another stage of this process failed), waits end
     */
    PipelineLinks(
            PipelineGroup group,
            int[] squaresPerStage,
            Device lowerDevice,
            Device upperDevice,
            BooleanSupplier abandoned,
            BooleanSupplier stageFailed) {
        this(group, squaresPerStage, 1, lowerDevice, upperDevice, abandoned, stageFailed);
    }

    /**
     * With {@code ranks} tensor-parallel ranks per stage: {@code squaresPerLane} holds each rank's count, lane
     * s x ranks + r, and the devices are those of rank 0 of the first and last stage (it alone crosses).
     */
    PipelineLinks(
            PipelineGroup group,
            int[] squaresPerLane,
            int ranks,
            Device lowerDevice,
            Device upperDevice,
            BooleanSupplier abandoned,
            BooleanSupplier stageFailed) {
        this.group = group;
        this.squaresPerLane = squaresPerLane.clone();
        this.ranks = ranks;
        if (squaresPerLane.length != group.stages() * ranks) {
            throw new IllegalArgumentException(
                    squaresPerLane.length + " lanes' squares for " + group.stages() + " stages of " + ranks + " ranks");
        }
        this.lowerDevice = lowerDevice;
        this.upperDevice = upperDevice;
        this.abandoned = abandoned;
        this.stageFailed = stageFailed;
        this.rendezvous =
                new StoreRendezvous(group.storeHost(), group.timeout(), abandoned, "pipeline rank " + group.rank());
        this.lowerCuda = lowerDevice.is_cuda();
        this.upperCuda = upperDevice.is_cuda();
        Backend controlGroup = null;
        Backend lowerGroup = null;
        Backend upperGroup = null;
        try {
            TCPStore controlStore = rendezvous.join(group.storePort(), group.rank() == 0);
            List<TCPStore> boundaryStores = new ArrayList<>();
            if (group.rank() == 0) {
                for (int b = 0; b < group.processes() - 1; b++) {
                    TCPStore store = rendezvous.open(0, true);
                    boundaryStores.add(store);
                    controlStore.add(BOUNDARY_PORT_KEY + b, Short.toUnsignedInt(store.getPort()));
                }
            }
            rendezvous.awaitEveryProcess(controlStore, CHECK_IN_KEY, group.processes(), "pipeline ranks");
            controlGroup = rendezvous.gloo(controlStore, group.rank(), group.processes());
            // Lower boundary first: rank r joins r - 1 before r + 1, so the joins complete from rank 0 upwards.
            if (group.rank() > 0) {
                lowerGroup = boundaryGroup(controlStore, boundaryStores, group.rank() - 1, 1, lowerCuda);
            }
            if (group.rank() < group.processes() - 1) {
                upperGroup = boundaryGroup(controlStore, boundaryStores, group.rank(), 0, upperCuda);
            }
        } catch (RuntimeException e) {
            for (Backend b : Arrays.asList(lowerGroup, upperGroup, controlGroup)) {
                if (b != null) {
                    b.close();
                }
            }
            rendezvous.closeStores();
            throw e instanceof PeerLostException p
                    ? p
                    : new PeerLostException(
                            "pipeline rank " + group.rank() + " could not join its " + group.processes()
                                    + " processes at " + group.storeHost() + ":" + group.storePort() + ": "
                                    + e.getMessage(),
                            e);
        }
        this.control = controlGroup;
        this.lower = lowerGroup;
        this.upper = upperGroup;
        this.watcher = new Thread(this::watch, "pipeline-links-watcher-rank-" + group.rank());
        watcher.setDaemon(true);
        watcher.start();
    }

    /** The whole pipeline's stage count. */
    int stages() {
        return group.stages();
    }

    /** Activations from the previous rank's last stage, into this process's first. */
    StageLink activationsIn() {
        return receivingAhead(new RemoteLink(lower, 0, 0, lowerDevice), "activations");
    }

    /** Gradients from this process's first stage back to the previous rank's last. */
    StageLink gradientsOut() {
        return new RemoteLink(lower, 0, 1, lowerDevice);
    }

    /** Activations from this process's last stage to the next rank's first. */
    StageLink activationsOut() {
        return new RemoteLink(upper, 1, 0, upperDevice);
    }

    /** Gradients from the next rank's first stage, into this process's last. */
    StageLink gradientsIn() {
        return receivingAhead(new RemoteLink(upper, 1, 1, upperDevice), "gradients");
    }

    /**
     * Over Gloo, a receiving end whose own thread receives ahead of the stage (see {@link ReceiveAheadLink}); over
     * NCCL the link itself, whose receives are already asynchronous to the host.
     */
    private StageLink receivingAhead(RemoteLink link, String what) {
        if (link.cuda) {
            return link;
        }
        ReceiveAheadLink ahead = new ReceiveAheadLink(
                link::receive, "pipeline-rank-" + group.rank() + "-receiving-" + what, this::stopped);
        synchronized (receivers) {
            receivers.add(ahead);
        }
        return ahead;
    }

    /**
     * Every lane's per-parameter squared gradient norms (stage by stage, each stage's tensor-parallel ranks in rank
     * order), given this process's lanes'. Each rank places its squares at their global positions in a vector of
     * zeros and the vector is summed over the ranks: every element has one non-zero term, so the sum is exact and
     * the caller adds up the same numbers in the same order as a pipeline in one process does.
     */
    double[][] allSquares(double[][] local) {
        int lanes = squaresPerLane.length;
        int[] offsets = new int[lanes + 1];
        for (int l = 0; l < lanes; l++) {
            offsets[l + 1] = offsets[l] + squaresPerLane[l];
        }
        double[] everyLane = new double[offsets[lanes]];
        for (int i = 0; i < local.length; i++) {
            int lane = group.firstStage() * ranks + i;
            if (local[i].length != squaresPerLane[lane]) {
                throw new IllegalStateException("stage " + lane / ranks + " rank " + lane % ranks + " has "
                        + local[i].length + " squared norms, the pipeline expected " + squaresPerLane[lane]);
            }
            System.arraycopy(local[i], 0, everyLane, offsets[lane], local[i].length);
        }
        double[] summed = sum(everyLane);
        double[][] all = new double[lanes][];
        for (int l = 0; l < lanes; l++) {
            all[l] = Arrays.copyOfRange(summed, offsets[l], offsets[l + 1]);
        }
        return all;
    }

    /** The last rank's {@code value} (the loss: only the last stage has it), on every rank. */
    double fromLastRank(double value) {
        double[] mine = {group.rank() == group.processes() - 1 ? value : 0.0};
        return sum(mine)[0];
    }

    /** The largest of the ranks' values (stop requests are ordered CONTINUE < STOP < CHECKPOINT_AND_STOP). */
    int agreeOnMaximum(int value) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.longs(new long[] {value}, 1);
            AllreduceOptions options = new AllreduceOptions();
            options.reduceOp(new ReduceOp(ReduceOp.RedOpType.MAX));
            awaitCollective(() -> control.allreduce(new TensorVector(t), options));
            return (int) t.data_ptr_long().get();
        }
    }

    private double[] sum(double[] values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensor.create(values.clone(), values.length);
            AllreduceOptions options = new AllreduceOptions();
            options.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
            awaitCollective(() -> control.allreduce(new TensorVector(t), options));
            double[] summed = new double[values.length];
            t.data_ptr_double().get(summed);
            return summed;
        }
    }

    /**
     * Gathers state to rank 0, kind by kind ({@code parts.get(k)} is this process's tensors of kind k, e.g.
     * parameters): rank 0 gets each kind's tensors of every rank in rank order (so in stage order); the other
     * ranks send theirs and get back their own. Every rank must call it.
     */
    List<List<HostTensor>> gatherToRankZero(List<List<HostTensor>> parts) {
        if (group.rank() != 0) {
            sendToRankZero(encode(parts));
            return parts;
        }
        List<List<HostTensor>> all = new ArrayList<>();
        parts.forEach(part -> all.add(new ArrayList<>(part)));
        for (int from = 1; from < group.processes(); from++) {
            List<List<HostTensor>> theirs = decode(receiveAtRankZero(from));
            if (theirs.size() != all.size()) {
                throw new IllegalStateException("pipeline rank " + from + " sent " + theirs.size() + " kinds of state");
            }
            for (int k = 0; k < all.size(); k++) {
                all.get(k).addAll(theirs.get(k));
            }
        }
        return all;
    }

    private void sendToRankZero(long[] words) {
        try (PointerScope scope = new PointerScope()) {
            Tensor length = Tensors.longs(new long[] {words.length}, 1);
            Tensor data = Tensors.longs(words, words.length);
            awaitPointToPoint(control.send(new TensorVector(length), 0, 2 * group.rank()), false);
            awaitPointToPoint(control.send(new TensorVector(data), 0, 2 * group.rank() + 1), false);
        }
    }

    private long[] receiveAtRankZero(int from) {
        try (PointerScope scope = new PointerScope()) {
            Tensor length = Tensors.longs(new long[1], 1);
            awaitPointToPoint(control.recv(new TensorVector(length), from, 2 * from), false);
            long[] words = new long[(int) length.data_ptr_long().get()];
            Tensor data = Tensors.longs(words, words.length);
            awaitPointToPoint(control.recv(new TensorVector(data), from, 2 * from + 1), false);
            data.data_ptr_long().get(words);
            return words;
        }
    }

    /** Names, shapes and float bits, packed into 64-bit words (the control group carries tensors). */
    private static long[] encode(List<List<HostTensor>> parts) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(parts.size());
            for (List<HostTensor> part : parts) {
                out.writeInt(part.size());
                for (HostTensor t : part) {
                    out.writeUTF(t.name());
                    out.writeInt(t.shape().length);
                    for (long size : t.shape()) {
                        out.writeLong(size);
                    }
                    ByteBuffer data = ByteBuffer.allocate(Float.BYTES * t.data().length);
                    data.asFloatBuffer().put(t.data());
                    out.write(data.array());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] packed = Arrays.copyOf(bytes.toByteArray(), (bytes.size() + 7) / 8 * 8);
        long[] words = new long[packed.length / 8];
        ByteBuffer.wrap(packed).asLongBuffer().get(words);
        return words;
    }

    private static List<List<HostTensor>> decode(long[] words) {
        ByteBuffer packed = ByteBuffer.allocate(words.length * 8);
        packed.asLongBuffer().put(words);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(packed.array()))) {
            List<List<HostTensor>> parts = new ArrayList<>();
            int kinds = in.readInt();
            for (int k = 0; k < kinds; k++) {
                int count = in.readInt();
                List<HostTensor> part = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    String name = in.readUTF();
                    long[] shape = new long[in.readInt()];
                    long elements = 1;
                    for (int d = 0; d < shape.length; d++) {
                        shape[d] = in.readLong();
                        elements *= shape[d];
                    }
                    byte[] data = new byte[Math.toIntExact(Float.BYTES * elements)];
                    in.readFully(data);
                    float[] floats = new float[(int) elements];
                    ByteBuffer.wrap(data).asFloatBuffer().get(floats);
                    part.add(new HostTensor(name, shape, floats));
                }
                parts.add(part);
            }
            return parts;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One direction over one boundary. A tensor goes as a small header (type and shape, so the receiver can
     * allocate it) and then its data, under tags of their own per micro-batch and direction; sends are not
     * waited for until the step ends, so a stage runs on while its output travels.
     */
    private final class RemoteLink implements StageLink {

        private final Backend boundary;
        private final int peer;
        private final int direction;
        private final boolean cuda;
        private final Device device;
        private final List<Work> sent = new ArrayList<>();

        RemoteLink(Backend boundary, int peer, int direction, Device device) {
            if (boundary == null) {
                throw new IllegalStateException("pipeline rank " + group.rank() + " has no neighbour there");
            }
            this.boundary = boundary;
            this.peer = peer;
            this.direction = direction;
            this.device = device;
            this.cuda = device.is_cuda();
        }

        private int tag(int microBatch, int part) {
            return 4 * microBatch + 2 * direction + part;
        }

        @Override
        public void send(int microBatch, Tensor tensor) {
            Tensor data = tensor.detach().contiguous();
            long[] header = new long[HEADER];
            header[0] = data.scalar_type().value;
            header[1] = data.dim();
            if (header[1] > HEADER - 2) {
                throw new IllegalArgumentException("a tensor of rank " + header[1] + " cannot cross processes");
            }
            for (int d = 0; d < data.dim(); d++) {
                header[2 + d] = data.size(d);
            }
            Tensor head = Tensors.on(Tensors.longs(header, HEADER), data.device());
            sent.add(start(() -> boundary.send(new TensorVector(head), peer, tag(microBatch, 0))));
            sent.add(start(() -> boundary.send(new TensorVector(data), peer, tag(microBatch, 1))));
        }

        @Override
        public Tensor receive(int microBatch) {
            Tensor head = Tensors.on(Tensors.longs(new long[HEADER], HEADER), device);
            awaitPointToPoint(start(() -> boundary.recv(new TensorVector(head), peer, tag(microBatch, 0))), cuda);
            long[] header = new long[HEADER];
            Tensors.on(head, NativeRuntime.device("cpu")).data_ptr_long().get(header);
            long[] shape = Arrays.copyOfRange(header, 2, 2 + (int) header[1]);
            Tensor data = head.new_empty(
                    shape,
                    new ScalarTypeOptional(scalarType((int) header[0])),
                    new LayoutOptional(),
                    new DeviceOptional(),
                    new BoolOptional());
            awaitPointToPoint(start(() -> boundary.recv(new TensorVector(data), peer, tag(microBatch, 1))), cuda);
            return data;
        }

        @Override
        public void finishStep() {
            try {
                for (Work work : sent) {
                    awaitPointToPoint(work, cuda);
                }
            } finally {
                sent.clear();
            }
        }
    }

    private static ScalarType scalarType(int value) {
        for (ScalarType type : ScalarType.values()) {
            if (type.value == value) {
                return type;
            }
        }
        throw new IllegalStateException("unknown tensor type " + value + " from a neighbour");
    }

    private Work start(Supplier<Work> operation) {
        if (closed) {
            throw new PeerLostException("pipeline rank " + group.rank() + ": its links are closed");
        }
        try {
            return operation.get();
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /**
     * Blocks until a send or receive completes (Gloo fails it after the group's timeout, or at once when the
     * neighbour's connection breaks); the watcher aborts it when the run is abandoned or a stage failed. An NCCL
     * wait only orders the device's stream after the operation.
     */
    private void awaitPointToPoint(Work work, boolean nccl) {
        if (nccl) {
            try {
                work._wait();
                return;
            } catch (RuntimeException e) {
                throw failed(e);
            }
        }
        synchronized (waiting) {
            waiting.add(work);
        }
        boolean completed;
        try {
            completed = work._wait();
        } catch (RuntimeException e) {
            throw stopped().orElse(failed(e));
        } finally {
            synchronized (waiting) {
                waiting.remove(work);
            }
        }
        if (!completed) {
            throw stopped().orElse(new PeerLostException("pipeline rank " + group.rank() + ": a transfer was aborted"));
        }
    }

    /** Why a wait was cut short by this side, if it was. */
    private java.util.Optional<RuntimeException> stopped() {
        if (stageFailed.getAsBoolean()) {
            return java.util.Optional.of(new StageAbortedException("aborted: another stage failed", null));
        }
        if (abandoned.getAsBoolean() || closed) {
            return java.util.Optional.of(new PeerLostException(
                    "pipeline rank " + group.rank() + " stopped waiting for its neighbours: the run was abandoned"));
        }
        return java.util.Optional.empty();
    }

    private void watch() {
        while (!closed) {
            if (abandoned.getAsBoolean() || stageFailed.getAsBoolean()) {
                synchronized (waiting) {
                    waiting.forEach(Work::abort);
                }
            }
            try {
                Thread.sleep(WAIT_SLICE_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * A collective on the control group, waited for in slices (Gloo runs it on its own thread, and a slice that
     * runs out leaves it running); given up when the run is abandoned.
     */
    private void awaitCollective(Supplier<Work> collective) {
        try (PointerScope scope = new PointerScope()) {
            Work work = start(collective);
            if (!SlicedWait.completed(
                    work, () -> abandoned.getAsBoolean() || stageFailed.getAsBoolean(), this::failed)) {
                work.retainReference();
                keepNatives = true;
                throw stopped().orElseThrow();
            }
        }
    }

    private PeerLostException failed(RuntimeException e) {
        return new PeerLostException("pipeline rank " + group.rank() + " lost a neighbour: " + e.getMessage(), e);
    }

    private Backend boundaryGroup(
            TCPStore controlStore, List<TCPStore> boundaryStores, int boundary, int rankInBoundary, boolean cuda) {
        TCPStore store = group.rank() == 0
                ? boundaryStores.get(boundary)
                : rendezvous.join((int) controlStore.add(BOUNDARY_PORT_KEY + boundary, 0), false);
        if (cuda) {
            return NcclBackends.create(store, rankInBoundary, 2, group.timeout().toMillis());
        }
        return rendezvous.gloo(store, rankInBoundary, 2);
    }

    /**
     * Stops the watcher and deletes the groups before their stores (a group's teardown still touches its store).
     * Called after the stage threads stopped; when a collective was given up while it still ran, the natives are
     * left to the process's end instead: deleting a group under a running collective is unsafe.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        watcher.interrupt();
        // a receiving thread still waiting (a step that failed) must end before its group is deleted
        synchronized (waiting) {
            waiting.forEach(Work::abort);
        }
        synchronized (receivers) {
            receivers.forEach(ReceiveAheadLink::close);
        }
        if (keepNatives) {
            return;
        }
        for (Backend b : Arrays.asList(lower, upper, control)) {
            if (b != null) {
                b.close();
            }
        }
        rendezvous.closeStores();
    }
}
