package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.PeerLostException;
import dev.trainyard.runner.engine.SpecException;
import dev.trainyard.spec.MemoryPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AllgatherOptions;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LongVector;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.ReduceScatterOptions;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;

/**
 * The collectives between data-parallel replicas (c10d over TCP stores: Gloo, or NCCL for stages on CUDA).
 * Each lane, a pipeline stage's tensor-parallel rank (stage s, rank r of t at lane s·t + r; just the stage
 * without tensor parallelism), has its own process group among the processes holding that same lane, so lane
 * threads issue collectives concurrently without interleaving differently on different replicas; the training
 * thread has a control group (Gloo, on the CPU) for agreeing on when to stop. The {@code stage} argument of the
 * collectives below is such a lane.
 *
 * <p>Each group gets its own store on its own port ({@code storePort} for control; for each stage a port rank 0's
 * system picks, published in the control store): handing one JavaCPP-owned store to a second group (directly or through a PrefixStore)
 * trips libtorch's intrusive_ptr refcount assertion and aborts the process.
 *
 * <p>Native ownership: a store is created by JavaCPP (a plain {@code new}) and JavaCPP's deallocator deletes it
 * whatever libtorch's intrusive refcount says, while each process group built on it holds an intrusive_ptr to it.
 * Left to the garbage collector, the store could be deleted before its group, whose teardown then decrements a
 * refcount inside freed memory and corrupts the heap (glibc aborts much later, e.g. "corrupted double-linked
 * list"). So {@link #close()} releases in dependency order: collectives' works, then the groups, then the stores.
 */
final class ReplicaGroup implements AutoCloseable {

    /**
     * Most elements averaged in one collective: gradients are packed into buckets of about this size (16 MB of
     * float32), so a stage costs a few collectives per step instead of one per parameter, with little memory
     * beyond the gradients themselves.
     */
    static final long BUCKET_ELEMENTS = MemoryPlan.GRADIENT_BUCKET_ELEMENTS;

    /** Counts the processes that reached the control store; no key of libtorch's own starts this way. */
    private static final String CHECK_IN_KEY = "trainyard/checked-in";

    /** Followed by a lane index: the port of that lane's store, as rank 0 bound it. */
    private static final String STAGE_PORT_KEY = "trainyard/stage-port/";

    private final DataParallelGroup group;
    private final BooleanSupplier abandoned;
    private final StoreRendezvous rendezvous;
    /** Rank 0's stores of the lanes, served before any group exists. */
    private final List<TCPStore> laneStores = new ArrayList<>();

    private final List<Backend> stageGroups = new ArrayList<>();
    private final List<Device> stageDevices = new ArrayList<>();
    private final Backend control;

    /** Collectives being started or waited for now; the groups must outlive them. Guarded by {@code this}. */
    private int collectivesRunning;

    /** Collectives whose wait was given up while they still ran (a lost peer); guarded by {@code this}. */
    private final List<Work> unfinished = new ArrayList<>();

    /** Collectives started ahead ({@link #startAllGather}) and not yet awaited; guarded by {@code this}. */
    private final List<Work> started = new ArrayList<>();

    /** Guarded by {@code this}. */
    private boolean closed;

    /**
     * @param abandoned polled while a collective waits: once true, the wait ends with a
     *     {@link PeerLostException} (a hung peer would otherwise hold this process for the whole timeout)
     */
    ReplicaGroup(DataParallelGroup group, int stages, BooleanSupplier abandoned) {
        this(group, stages, 1, abandoned);
    }

    /**
     * Joins the replicas of a pipeline of {@code stages} stages, each on {@code tensorParallel} devices: one group
     * per lane (stage s, tensor rank r at lane s·t + r, on device s·t + r).
     */
    ReplicaGroup(DataParallelGroup group, int stages, int tensorParallel, BooleanSupplier abandoned) {
        this.group = group;
        this.abandoned = abandoned;
        this.rendezvous = new StoreRendezvous(
                group.storeHost(), group.timeout(), abandoned, "data-parallel rank " + group.rank());
        int lanes = stages * tensorParallel;
        try {
            TCPStore controlStore = rendezvous.join(group.storePort(), group.rank() == 0);
            if (group.rank() == 0) {
                openStageStores(controlStore, lanes);
            }
            rendezvous.awaitEveryProcess(controlStore, CHECK_IN_KEY, group.processes(), "processes");
            this.control = rendezvous.gloo(controlStore, group.rank(), group.processes());
            requireSameLayout(stages, tensorParallel);
            for (int s = 0; s < lanes; s++) {
                Device device = NativeRuntime.device(NativeRuntime.deviceName(s));
                stageDevices.add(device);
                TCPStore stageStore =
                        group.rank() == 0 ? laneStores.get(s) : rendezvous.join(stagePort(controlStore, s), false);
                stageGroups.add(processGroup(stageStore, device.is_cuda()));
            }
        } catch (SpecException | PeerLostException e) {
            close();
            throw e;
        } catch (RuntimeException e) {
            close();
            throw new PeerLostException(
                    "data-parallel rank " + group.rank() + " could not join its " + group.processes() + " processes at "
                            + group.storeHost() + ":" + group.storePort() + ": " + e.getMessage(),
                    e);
        }
    }

    /**
     * Rank 0 opens every stage's store before any process group exists, each on a port the system picks, and
     * publishes the ports in the control store. Ports probed free earlier could have been taken since, by Gloo's
     * own listeners among others: a peer that then reached a Gloo socket instead of a store waited for the whole
     * timeout while rank 0 had already failed.
     */
    private void openStageStores(TCPStore controlStore, int stages) {
        for (int s = 0; s < stages; s++) {
            TCPStore stageStore = rendezvous.open(0, true);
            laneStores.add(stageStore);
            controlStore.add(STAGE_PORT_KEY + s, Short.toUnsignedInt(stageStore.getPort()));
        }
    }

    /** The port rank 0 published for stage {@code s}'s store; rank 0 publishes before it checks in. */
    private static int stagePort(TCPStore controlStore, int s) {
        return (int) controlStore.add(STAGE_PORT_KEY + s, 0);
    }

    /**
     * A group over its own store; NCCL for a stage on CUDA (gradients stay on the device), Gloo otherwise. Every
     * process has checked in at the control store before any group is made: the native joins block until all
     * peers connect, so a peer that never comes (its runner died) would otherwise hold this process there for the
     * whole timeout, even after the platform ended the attempt.
     */
    private Backend processGroup(TCPStore store, boolean cuda) {
        if (!cuda) {
            return rendezvous.gloo(store, group.rank(), group.processes());
        }
        try {
            return NcclBackends.create(
                    store, group.rank(), group.processes(), group.timeout().toMillis());
        } catch (RuntimeException e) {
            rendezvous.disown(store);
            throw e;
        }
    }

    /**
     * Every process must cut the model into the same stages and tensor ranks, or their lane groups would wait on
     * each other.
     */
    private void requireSameLayout(int stages, int tensorParallel) {
        int most = agreeOnMaximum(stages);
        int fewest = -agreeOnMaximum(-stages);
        if (most != fewest) {
            throw new SpecException("data-parallel processes disagree on the pipeline: between " + fewest + " and "
                    + most + " stages; each process needs devices for its replicas x the same number of stages");
        }
        int widest = agreeOnMaximum(tensorParallel);
        int narrowest = -agreeOnMaximum(-tensorParallel);
        if (widest != narrowest) {
            throw new SpecException(
                    "data-parallel processes disagree on tensorParallel: between " + narrowest + " and " + widest);
        }
    }

    /**
     * Replaces {@code tensor} (in place) by its mean over the replicas; called from lane {@code stage}'s thread
     * (the stage index itself without tensor parallelism).
     * A process holding k replicas has the mean over k replicas' rows, so it counts k times.
     */
    void average(int stage, Tensor tensor) {
        if (group.localReplicas() != 1) {
            Tensors.withoutGrad(() -> tensor.mul_(new Scalar((double) group.localReplicas())));
        }
        allreduceSum(stageGroups.get(stage), tensor, stageDevices.get(stage).is_cuda());
        Tensors.withoutGrad(() -> tensor.div_(new Scalar((double) group.replicas())));
    }

    /**
     * Replaces each tensor (in place) by its mean over the replicas, packing them into buckets of up to
     * {@link #BUCKET_ELEMENTS} elements: one collective per bucket. The same values as averaging each tensor
     * alone (every element is the same sum), with far fewer round trips.
     */
    void averageAll(int stage, List<Tensor> tensors) {
        List<Tensor> bucket = new ArrayList<>();
        long elements = 0;
        for (Tensor t : tensors) {
            if (!bucket.isEmpty() && elements + t.numel() > BUCKET_ELEMENTS) {
                averageBucket(stage, bucket);
                bucket.clear();
                elements = 0;
            }
            bucket.add(t);
            elements += t.numel();
        }
        if (!bucket.isEmpty()) {
            averageBucket(stage, bucket);
        }
    }

    private void averageBucket(int stage, List<Tensor> bucket) {
        if (bucket.size() == 1) {
            average(stage, bucket.get(0));
            return;
        }
        try (PointerScope scope = new PointerScope()) {
            TensorVector flat = new TensorVector();
            bucket.forEach(t -> flat.push_back(t.reshape(-1)));
            Tensor packed = torch.cat(flat, 0);
            average(stage, packed);
            Tensors.withoutGrad(() -> {
                long offset = 0;
                for (Tensor t : bucket) {
                    t.copy_(packed.narrow(0, offset, t.numel()).view(Tensors.shape(t)));
                    offset += t.numel();
                }
            });
        }
    }

    /** This process's rank among {@link #processes()}: which shard of a ZeRO-sharded state it keeps. */
    int rank() {
        return group.rank();
    }

    /** The processes sharing the replicas (a process holding several replicas keeps one shard for them). */
    int processes() {
        return group.processes();
    }

    /**
     * Writes into {@code shard} this process's slice (rank r of n: elements {@code [r·len, (r+1)·len)}, len =
     * {@code shard.numel()}) of the replicas' mean of {@code packed}, whose length must be n·len. The mean is
     * formed as {@link #average} forms it (local replicas counted, summed, divided), so each element is the value
     * an all-reduce would give (bitwise with two processes). {@code packed} is scaled in place. The blocking form of
     * {@link #startReduceScatterMean}: one path for ZeRO 1 and 2 (here) and ZeRO 3 (in the background).
     */
    void reduceScatterMean(int stage, Tensor packed, Tensor shard) {
        await(startReduceScatterMean(stage, packed, shard));
    }

    /** Concatenates every process's {@code shard} in rank order into {@code full} (n times its length). */
    void allGather(int stage, Tensor shard, Tensor full) {
        await(startAllGather(stage, shard, full));
    }

    /**
     * Starts {@link #allGather} and returns without waiting: the collective runs (in Gloo's worker thread, or on
     * NCCL's stream) while the caller computes, and {@code full} is filled only once {@link #await} returned. Every
     * process must start the same collectives in the same order on a lane, as with the blocking calls.
     */
    Pending startAllGather(int stage, Tensor shard, Tensor full) {
        return start(
                () -> stageGroups.get(stage)._allgather_base(full, shard, new AllgatherOptions()),
                stageDevices.get(stage).is_cuda(),
                () -> {});
    }

    /**
     * Starts {@link #reduceScatterMean} and returns without waiting; {@code shard} holds the mean once {@link #await}
     * returned. On CPU devices the sum is formed from an all-to-all, not Gloo's reduce-scatter, which all-reduces
     * the whole buffer (twice the bytes) and copies the slice out: each process receives every process's piece of
     * its slice and adds them in rank order. With two processes that is the same sum, bitwise, as the all-reduce's;
     * with more, the same within rounding. {@code packed} is scaled in place and must not change until then.
     */
    Pending startReduceScatterMean(int stage, Tensor packed, Tensor shard) {
        if (group.localReplicas() != 1) {
            Tensors.withoutGrad(() -> packed.mul_(new Scalar((double) group.localReplicas())));
        }
        Scalar replicas = new Scalar((double) group.replicas());
        replicas.retainReference(); // used when the collective is awaited, after this call's scope
        if (stageDevices.get(stage).is_cuda()) {
            ReduceScatterOptions options = new ReduceScatterOptions();
            options.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
            return start(() -> stageGroups.get(stage)._reduce_scatter_base(shard, packed, options), true, () -> {
                Tensors.withoutGrad(() -> shard.div_(replicas));
                replicas.releaseReference();
            });
        }
        // every process's piece of this slice, by rank: the buffer is the size of the packed input
        Tensor pieces = packed.new_empty(packed.numel());
        pieces.retainReference();
        return start(
                () -> stageGroups.get(stage).alltoall_base(pieces, packed, new LongVector(), new LongVector()),
                false,
                () -> {
                    Tensors.withoutGrad(() -> {
                        long length = shard.numel();
                        shard.copy_(pieces.narrow(0, 0, length));
                        for (int r = 1; r < group.processes(); r++) {
                            shard.add_(pieces.narrow(0, r * length, length));
                        }
                        shard.div_(replicas);
                    });
                    pieces.releaseReference();
                    replicas.releaseReference();
                });
    }

    /** The sum of a number over the processes (identical on each), through stage {@code stage}'s group. */
    double sumValue(int stage, double value) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.on(Tensor.create(new double[] {value}, 1), stageDevices.get(stage));
            allreduceSum(stageGroups.get(stage), t, stageDevices.get(stage).is_cuda());
            return t.item_double();
        }
    }

    /** The mean of a number over the replicas, through stage {@code stage}'s group. */
    double averageValue(int stage, double value) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t =
                    Tensors.on(Tensor.create(new double[] {value * group.localReplicas()}, 1), stageDevices.get(stage));
            allreduceSum(stageGroups.get(stage), t, stageDevices.get(stage).is_cuda());
            return t.item_double() / group.replicas();
        }
    }

    /** Overwrites each tensor (in place) with rank 0's; called from stage {@code stage}'s thread. */
    void broadcastFromRankZero(int stage, List<Tensor> tensors) {
        boolean nccl = stageDevices.get(stage).is_cuda();
        for (Tensor tensor : tensors) {
            BroadcastOptions options = new BroadcastOptions();
            options.rootRank(0);
            waitFor(() -> stageGroups.get(stage).broadcast(new TensorVector(tensor), options), nccl);
        }
    }

    /** The element-wise mean of a vector over the processes (identical on every process afterwards). */
    double[] averageAll(double[] values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensor.create(values.clone(), values.length);
            allreduceSum(control, t, false);
            double[] mean = new double[values.length];
            t.data_ptr_double().get(mean);
            for (int i = 0; i < mean.length; i++) {
                mean[i] /= group.processes();
            }
            return mean;
        }
    }

    /** The largest of the replicas' values (stop requests are ordered CONTINUE < STOP < CHECKPOINT_AND_STOP). */
    int agreeOnMaximum(int value) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.longs(new long[] {value}, 1);
            AllreduceOptions options = new AllreduceOptions();
            options.reduceOp(new ReduceOp(ReduceOp.RedOpType.MAX));
            waitFor(() -> control.allreduce(new TensorVector(t), options), false);
            return (int) t.data_ptr_long().get();
        }
    }

    private void allreduceSum(Backend processGroup, Tensor tensor, boolean nccl) {
        AllreduceOptions options = new AllreduceOptions();
        options.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
        waitFor(() -> processGroup.allreduce(new TensorVector(tensor), options), nccl);
    }

    /** A collective started and not yet waited for; {@link #await} it exactly once, on the thread that started it. */
    static final class Pending {
        private final Work work;
        private final boolean nccl;
        private final Runnable completion;

        private Pending(Work work, boolean nccl, Runnable completion) {
            this.work = work;
            this.nccl = nccl;
            this.completion = completion;
        }
    }

    /**
     * Starts a collective. The work is kept (its Java handle retained, and listed so that {@link #close()} waits for
     * it before deleting the groups) until {@link #await} takes it back; {@code completion} runs after the wait.
     */
    private Pending start(Supplier<Work> collective, boolean nccl, Runnable completion) {
        synchronized (this) {
            if (closed) {
                throw new PeerLostException("data-parallel rank " + group.rank() + ": its replica group is closed");
            }
            collectivesRunning++;
        }
        // the collective's arguments die with this scope: the work holds what it needs
        try (PointerScope scope = new PointerScope()) {
            Work[] work = new Work[1];
            CommunicationClock.time(() -> {
                try {
                    work[0] = collective.get();
                } catch (RuntimeException e) {
                    throw collectiveFailed(e);
                }
            });
            work[0].retainReference();
            synchronized (this) {
                started.add(work[0]);
            }
            return new Pending(work[0], nccl, completion);
        } finally {
            synchronized (this) {
                collectivesRunning--;
                notifyAll();
            }
        }
    }

    /**
     * Waits for a started collective as the blocking calls wait (in slices, giving up once the run is abandoned), then
     * completes it. The wait is communication time on the calling thread's {@link CommunicationClock}.
     */
    void await(Pending pending) {
        synchronized (this) {
            if (!started.remove(pending.work)) {
                throw new PeerLostException("data-parallel rank " + group.rank() + ": its replica group is closed");
            }
            collectivesRunning++;
        }
        boolean[] completed = {true};
        try (PointerScope scope = new PointerScope()) {
            CommunicationClock.time(() -> completed[0] = awaitStarted(pending.work, pending.nccl));
            if (!completed[0]) {
                throw abandoned();
            }
            pending.completion.run();
        } finally {
            if (completed[0]) {
                pending.work.releaseReference();
            }
            synchronized (this) {
                collectivesRunning--;
                notifyAll();
            }
        }
    }

    /**
     * Waits for a started collective; false when the run was abandoned while it still ran in Gloo's worker thread,
     * and then the work is listed as unfinished (its group and store must live until it ends).
     */
    private boolean awaitStarted(Work work, boolean nccl) {
        if (nccl) {
            try {
                work._wait();
                return true;
            } catch (RuntimeException e) {
                throw collectiveFailed(e);
            }
        }
        if (SlicedWait.completed(work, abandoned, ReplicaGroup::collectiveFailed)) {
            return true;
        }
        synchronized (this) {
            unfinished.add(work);
        }
        return false;
    }

    private PeerLostException abandoned() {
        return new PeerLostException(
                "data-parallel rank " + group.rank() + " stopped waiting for its peers: the run was abandoned");
    }

    /**
     * Starts a collective and waits for it in slices of {@link StoreRendezvous#WAIT_SLICE_MS} ({@link SlicedWait}), looking between slices whether
     * the run was abandoned. A slice is a blocking wait that returns the moment the collective completes (libtorch
     * ends a wait that timed out with an error but leaves a Gloo collective running). An NCCL wait only orders
     * the device's stream after the collective and returns, and a timed-out NCCL wait may tear down its
     * communicator, so NCCL work is waited for once. A collective that fails means a peer is gone: the others
     * cannot go on without it.
     */
    private void waitFor(Supplier<Work> collective, boolean nccl) {
        synchronized (this) {
            if (closed) {
                throw new PeerLostException("data-parallel rank " + group.rank() + ": its replica group is closed");
            }
            collectivesRunning++;
        }
        // the work (it holds its process group) and the collective's arguments die here, not whenever the GC runs
        try (PointerScope scope = new PointerScope()) {
            CommunicationClock.time(() -> awaitWork(collective, nccl));
        } finally {
            synchronized (this) {
                collectivesRunning--;
                notifyAll();
            }
        }
    }

    private void awaitWork(Supplier<Work> collective, boolean nccl) {
        Work work;
        try {
            work = collective.get();
        } catch (RuntimeException e) {
            throw collectiveFailed(e);
        }
        if (nccl) {
            try {
                work._wait();
                return;
            } catch (RuntimeException e) {
                throw collectiveFailed(e);
            }
        }
        if (!SlicedWait.completed(work, abandoned, ReplicaGroup::collectiveFailed)) {
            // still running in Gloo's worker thread: its group and store must live until it ends
            work.retainReference();
            synchronized (this) {
                unfinished.add(work);
            }
            throw new PeerLostException(
                    "data-parallel rank " + group.rank() + " stopped waiting for its peers: the run was abandoned");
        }
    }

    /**
     * Deletes the groups, then their stores (rank 0's store stops listening on its port). When a collective still
     * runs (one given up on a lost peer ends only at the group's timeout), the release waits for it on a daemon
     * thread instead of holding up the caller: deleting a group under a running collective is as unsafe as leaving
     * the order to the GC.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            // a collective started ahead and never awaited (its step failed) is waited for like an unfinished one
            unfinished.addAll(started);
            started.clear();
            if (collectivesRunning == 0 && unfinished.isEmpty()) {
                release();
                return;
            }
        }
        Thread releaser = new Thread(this::releaseOnceQuiet, "replica-group-release-rank-" + group.rank());
        releaser.setDaemon(true);
        releaser.start();
    }

    private void releaseOnceQuiet() {
        List<Work> pending;
        synchronized (this) {
            while (collectivesRunning > 0) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return; // leaking the natives is safe; releasing them under a running collective is not
                }
            }
            pending = List.copyOf(unfinished);
            unfinished.clear();
        }
        for (Work work : pending) {
            try {
                work._wait();
            } catch (RuntimeException e) {
                // the collective's own failure (its peer is gone): it has ended, which is all that matters here
            }
            work.releaseReference();
        }
        synchronized (this) {
            release();
        }
    }

    /** Groups before stores: a group's teardown still touches its store. */
    private void release() {
        stageGroups.forEach(Backend::close);
        stageGroups.clear();
        if (control != null) {
            control.close();
        }
        laneStores.clear();
        rendezvous.closeStores();
    }

    private static PeerLostException collectiveFailed(RuntimeException e) {
        return new PeerLostException("a data-parallel collective failed: " + e.getMessage(), e);
    }
}
