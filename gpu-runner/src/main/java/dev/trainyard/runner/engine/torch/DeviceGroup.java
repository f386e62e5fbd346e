package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.CollectiveGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;

/**
 * One rank of a group of devices inside this process (a tensor-parallel group: its devices' threads call the
 * collectives). Each rank has its own c10d process group over its own TCP store on the loopback (rank 0's store
 * serves the others, on a port the system picks): Gloo for CPU devices, NCCL for CUDA devices (written, not yet
 * run on a GPU). One store object per rank, because handing one JavaCPP-owned store to two groups trips
 * libtorch's intrusive_ptr assertion (see {@link ReplicaGroup}).
 */
final class DeviceGroup implements CollectiveGroup<Tensor> {

    private static final String LOOPBACK = "127.0.0.1";
    private static final long WAIT_SLICE_MS = 100;

    private final int rank;
    private final int size;
    private final boolean nccl;
    private final TCPStore store;
    private final Backend backend;
    private final BooleanSupplier aborted;
    private volatile boolean broken;

    private DeviceGroup(int rank, int size, boolean nccl, TCPStore store, Backend backend, BooleanSupplier aborted) {
        this.rank = rank;
        this.size = size;
        this.nccl = nccl;
        this.store = store;
        this.backend = backend;
        this.aborted = aborted;
    }

    /**
     * Joins one rank per device (concurrently: each native join waits for all). {@code aborted} is polled while a
     * collective waits, so a rank whose peer thread failed gives up instead of waiting for the whole timeout.
     */
    static List<DeviceGroup> open(List<Device> devices, Duration timeout, BooleanSupplier aborted) {
        int size = devices.size();
        TCPStore server = store(0, 0, size, timeout);
        int port = Short.toUnsignedInt(server.getPort());
        ExecutorService joiners = Executors.newFixedThreadPool(size);
        try {
            List<Future<DeviceGroup>> joined = new ArrayList<>();
            for (int r = 0; r < size; r++) {
                int rank = r;
                boolean cuda = devices.get(r).is_cuda();
                joined.add(joiners.submit(() -> {
                    TCPStore own = rank == 0 ? server : store(port, rank, size, timeout);
                    return new DeviceGroup(rank, size, cuda, own, backend(own, rank, size, cuda, timeout), aborted);
                }));
            }
            List<DeviceGroup> groups = new ArrayList<>();
            for (Future<DeviceGroup> f : joined) {
                groups.add(f.get());
            }
            return groups;
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "a tensor-parallel group of " + size + " could not join: " + e.getCause(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while joining a tensor-parallel group", e);
        } finally {
            joiners.shutdown();
        }
    }

    private static TCPStore store(int port, int rank, int size, Duration timeout) {
        TCPStoreOptions options = new TCPStoreOptions();
        options.port((short) port);
        options.isServer(rank == 0);
        options.waitWorkers(false);
        options.timeout(new Milliseconds(timeout.toMillis()));
        return new TCPStore(LOOPBACK, options);
    }

    private static Backend backend(TCPStore store, int rank, int size, boolean cuda, Duration timeout) {
        if (cuda) {
            return NcclBackends.create(store, rank, size, timeout.toMillis());
        }
        ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(new Milliseconds(timeout.toMillis()));
        options.devices(new GlooDeviceVector(ProcessGroupGloo.createDeviceForHostname(LOOPBACK)));
        return new ProcessGroupGloo(store, rank, size, options);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void allReduce(Tensor tensor, Reduction reduction) {
        AllreduceOptions options = new AllreduceOptions();
        options.reduceOp(new ReduceOp(reduction == Reduction.SUM ? ReduceOp.RedOpType.SUM : ReduceOp.RedOpType.MAX));
        run(() -> backend.allreduce(new TensorVector(tensor), options));
    }

    @Override
    public void allGather(Tensor output, Tensor input) {
        run(() -> backend._allgather_base(output, input));
    }

    @Override
    public void reduceScatter(Tensor output, Tensor input) {
        run(() -> backend._reduce_scatter_base(output, input));
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        BroadcastOptions options = new BroadcastOptions();
        options.rootRank(root);
        run(() -> backend.broadcast(new TensorVector(tensor), options));
    }

    /**
     * Starts a collective and waits in slices, looking between them whether a peer thread gave up (its
     * collective will then never come). NCCL work is waited for once (the wait only orders the stream).
     */
    private void run(Supplier<Work> collective) {
        CommunicationClock.time(() -> startAndAwait(collective));
    }

    private void startAndAwait(Supplier<Work> collective) {
        if (broken) {
            throw new StageAbortedException(
                    "tensor-parallel rank " + rank + ": an earlier collective was abandoned", null);
        }
        try (PointerScope scope = new PointerScope()) {
            Work work = collective.get();
            if (nccl) {
                work._wait();
                return;
            }
            Milliseconds slice = new Milliseconds(WAIT_SLICE_MS);
            while (true) {
                try {
                    work._wait(slice);
                    return;
                } catch (RuntimeException e) {
                    // the slice ran out, or the collective failed: isCompleted tells which
                }
                if (work.isCompleted()) {
                    work._wait();
                    return;
                }
                if (aborted.getAsBoolean()) {
                    // still running in Gloo's thread: keep it, its group and its store alive (see close)
                    work.retainReference();
                    broken = true;
                    throw new StageAbortedException(
                            "tensor-parallel rank " + rank + " stopped waiting: a peer failed", null);
                }
            }
        }
    }

    /**
     * Deletes the ranks' process groups, then their stores (a group's teardown still touches its store, and rank
     * 0's store serves the others). When a collective was abandoned under a group, all are left to leak: deleting
     * natives under a running collective is not safe.
     */
    static void closeAll(List<DeviceGroup> groups) {
        if (groups.stream().anyMatch(g -> g.broken)) {
            return;
        }
        groups.forEach(g -> g.backend.close());
        for (int r = groups.size() - 1; r >= 0; r--) {
            groups.get(r).store.close();
        }
    }
}
