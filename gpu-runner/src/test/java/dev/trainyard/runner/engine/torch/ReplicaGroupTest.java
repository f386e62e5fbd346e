package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.PeerLostException;
import dev.trainyard.runner.engine.SpecException;
import dev.trainyard.runner.engine.StorePorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Two ranks in one JVM (Gloo over a TCP store). */
class ReplicaGroupTest {

    @Test
    void bucketedAveragingGivesEveryTensorItsMeanOverTheRanks() throws Exception {
        NativeRuntime.load();
        ReplicaGroup[] ranks = join(StorePorts.free(), Duration.ofSeconds(60), () -> false);
        try (ReplicaGroup zero = ranks[0];
                ReplicaGroup one = ranks[1]) {
            averageAcrossTwoRanks(zero, one);
        }
    }

    private static void averageAcrossTwoRanks(ReplicaGroup zero, ReplicaGroup oneRank) throws Exception {
        ReplicaGroup[] ranks = {zero, oneRank};
        // shapes as gradients come: matrices, vectors, a scalar, and one larger than a whole bucket
        long[][] shapes = {{64, 32}, {32}, {1}, {ReplicaGroup.BUCKET_ELEMENTS + 5}, {7, 3, 2}, {3}};
        List<List<Tensor>> tensors = new ArrayList<>();
        List<Tensor> expected = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            Generator generator = torch.make_generator_cpu(100 + rank);
            List<Tensor> mine = new ArrayList<>();
            for (long[] shape : shapes) {
                mine.add(torch.randn(shape, new GeneratorOptional(generator), new TensorOptions()));
            }
            tensors.add(mine);
        }
        for (int i = 0; i < shapes.length; i++) {
            expected.add(tensors.get(0).get(i).add(tensors.get(1).get(i)).div(new Scalar(2.0)));
        }

        CompletableFuture<Void> one = CompletableFuture.runAsync(() -> ranks[1].averageAll(0, tensors.get(1)));
        ranks[0].averageAll(0, tensors.get(0));
        one.get(30, TimeUnit.SECONDS);

        for (int rank = 0; rank < 2; rank++) {
            for (int i = 0; i < shapes.length; i++) {
                Tensor got = tensors.get(rank).get(i);
                assertThat(Tensors.shape(got)).isEqualTo(shapes[i]);
                assertThat(got.equal(expected.get(i)))
                        .as("rank %d tensor %d", rank, i)
                        .isTrue();
            }
        }
    }

    @Test
    void buffersBecomeRankZerosOnEveryRank() throws Exception {
        NativeRuntime.load();
        ReplicaGroup[] ranks = join(StorePorts.free(), Duration.ofSeconds(60), () -> false);
        try (ReplicaGroup zero = ranks[0];
                ReplicaGroup one = ranks[1]) {
            broadcastAcrossTwoRanks(zero, one);
        }
    }

    private static void broadcastAcrossTwoRanks(ReplicaGroup zero, ReplicaGroup oneRank) throws Exception {
        ReplicaGroup[] ranks = {zero, oneRank};
        // a running mean (float) and a counter (int64), as modules keep them
        List<List<Tensor>> buffers = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            buffers.add(List.of(
                    Tensors.floats(new float[] {rank + 0.5f, rank - 2f, 3f * rank}, 3),
                    Tensors.longs(new long[] {10 + rank}, 1)));
        }

        CompletableFuture<Void> one =
                CompletableFuture.runAsync(() -> ranks[1].broadcastFromRankZero(0, buffers.get(1)));
        ranks[0].broadcastFromRankZero(0, buffers.get(0));
        one.get(30, TimeUnit.SECONDS);

        for (int rank = 0; rank < 2; rank++) {
            float[] mean = new float[3];
            buffers.get(rank).get(0).data_ptr_float().get(mean);
            assertThat(mean).as("rank %d", rank).containsExactly(0.5f, -2f, 0f);
            assertThat(buffers.get(rank).get(1).data_ptr_long().get())
                    .as("rank %d", rank)
                    .isEqualTo(10L);
        }
    }

    /**
     * Tensor x data parallelism: one stage on two tensor ranks gives two lanes, each its own group. Both lanes
     * average at the same time from their own threads (as the lane threads of a step do), each with tensors of its
     * own; shared by both, one group would pair one rank's lane 0 collective with the other's lane 1.
     */
    @Test
    void eachLaneAveragesOnItsOwnGroupConcurrently() throws Exception {
        NativeRuntime.load();
        int port = StorePorts.free();
        CompletableFuture<ReplicaGroup> joining = CompletableFuture.supplyAsync(() -> new ReplicaGroup(
                DataParallelGroup.evenly(1, 2, "127.0.0.1", port).withTimeout(Duration.ofSeconds(60)),
                1,
                2,
                () -> false));
        try (ReplicaGroup zero = new ReplicaGroup(
                        DataParallelGroup.evenly(0, 2, "127.0.0.1", port).withTimeout(Duration.ofSeconds(60)),
                        1,
                        2,
                        () -> false);
                ReplicaGroup one = joining.get(30, TimeUnit.SECONDS)) {
            ReplicaGroup[] ranks = {zero, one};
            // lane l of rank r holds 3 + l elements of value 10·l + r: every lane's mean is 10·l + 0.5
            Tensor[][] tensors = new Tensor[2][2];
            List<CompletableFuture<Void>> lanes = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                for (int lane = 0; lane < 2; lane++) {
                    float[] values = new float[3 + lane];
                    java.util.Arrays.fill(values, 10f * lane + rank);
                    Tensor t = Tensors.floats(values, values.length);
                    tensors[rank][lane] = t;
                    int r = rank;
                    int l = lane;
                    lanes.add(CompletableFuture.runAsync(() -> ranks[r].averageAll(l, List.of(t))));
                }
            }
            CompletableFuture.allOf(lanes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            for (int rank = 0; rank < 2; rank++) {
                for (int lane = 0; lane < 2; lane++) {
                    float[] got = new float[3 + lane];
                    tensors[rank][lane].data_ptr_float().get(got);
                    float expected = 10f * lane + 0.5f;
                    assertThat(got).as("rank %d lane %d", rank, lane).containsOnly(expected);
                }
            }
        }
    }

    /** Processes with different tensorParallel would wait on lanes the others do not have: both refuse at once. */
    @Test
    void processesThatDisagreeOnTensorParallelRefuseToJoin() throws Exception {
        NativeRuntime.load();
        int port = StorePorts.free();
        CompletableFuture<ReplicaGroup> one = CompletableFuture.supplyAsync(() -> new ReplicaGroup(
                DataParallelGroup.evenly(1, 2, "127.0.0.1", port).withTimeout(Duration.ofSeconds(60)),
                1,
                1,
                () -> false));
        assertThatThrownBy(() -> new ReplicaGroup(
                                DataParallelGroup.evenly(0, 2, "127.0.0.1", port)
                                        .withTimeout(Duration.ofSeconds(60)),
                                1,
                                2,
                                () -> false)
                        .close())
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("disagree on tensorParallel: between 1 and 2");
        assertThatThrownBy(() -> one.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(SpecException.class);
    }

    /**
     * ZeRO 1 and 2 reduce their buckets with the call ZeRO 3 uses, which on CPU sums each slice's pieces in rank
     * order: so ZeRO 2 and ZeRO 3 give the same gradient slices, bitwise, on any number of processes. Gloo's own
     * reduce-scatter all-reduces around a ring, where each chunk's sum starts at another rank. Three ranks hold
     * 1e8, -1e8 and 1 in every element: only rank order, (1e8 - 1e8) + 1, keeps the 1 (float32's spacing at 1e8 is
     * 8, so any order that adds the 1 to one of the large values first loses it).
     */
    @Test
    void reduceScatterSumsEverySliceInRankOrder() throws Exception {
        NativeRuntime.load();
        int port = StorePorts.free();
        int processes = 3;
        int sliceLength = 1000;
        float[] held = {1e8f, -1e8f, 1f};
        List<CompletableFuture<ReplicaGroup>> joining = new ArrayList<>();
        for (int rank = 0; rank < processes; rank++) {
            int r = rank;
            joining.add(CompletableFuture.supplyAsync(() -> new ReplicaGroup(
                    DataParallelGroup.evenly(r, processes, "127.0.0.1", port).withTimeout(Duration.ofSeconds(60)),
                    1,
                    () -> false)));
        }
        List<ReplicaGroup> ranks = new ArrayList<>();
        try {
            for (CompletableFuture<ReplicaGroup> rank : joining) {
                ranks.add(rank.get(30, TimeUnit.SECONDS));
            }
            Tensor[] shards = new Tensor[processes];
            List<CompletableFuture<Void>> reducing = new ArrayList<>();
            for (int rank = 0; rank < processes; rank++) {
                float[] values = new float[processes * sliceLength];
                java.util.Arrays.fill(values, held[rank]);
                Tensor packed = Tensors.floats(values, values.length);
                shards[rank] = packed.new_zeros(sliceLength);
                ReplicaGroup group = ranks.get(rank);
                Tensor shard = shards[rank];
                reducing.add(CompletableFuture.runAsync(() -> group.reduceScatterMean(0, packed, shard)));
            }
            for (CompletableFuture<Void> r : reducing) {
                r.get(30, TimeUnit.SECONDS);
            }
            float rankOrder = ((held[0] + held[1]) + held[2]) / processes;
            for (int rank = 0; rank < processes; rank++) {
                float[] got = new float[sliceLength];
                shards[rank].data_ptr_float().get(got);
                float[] expected = new float[sliceLength];
                java.util.Arrays.fill(expected, rankOrder);
                assertThat(got).as("rank %d's slice", rank).containsExactly(expected);
            }
        } finally {
            for (ReplicaGroup rank : ranks) {
                rank.close();
            }
        }
    }

    /** Both ranks of a 2-process group with one stage, built concurrently (each waits for the other). */
    private static ReplicaGroup[] join(int port, Duration timeout, BooleanSupplier rankZeroAbandoned) throws Exception {
        return join(port, 1, timeout, rankZeroAbandoned);
    }

    private static ReplicaGroup[] join(int port, int stages, Duration timeout, BooleanSupplier rankZeroAbandoned)
            throws Exception {
        CompletableFuture<ReplicaGroup> zero = CompletableFuture.supplyAsync(() -> new ReplicaGroup(
                DataParallelGroup.evenly(0, 2, "127.0.0.1", port).withTimeout(timeout), stages, rankZeroAbandoned));
        CompletableFuture<ReplicaGroup> one = CompletableFuture.supplyAsync(() -> new ReplicaGroup(
                DataParallelGroup.evenly(1, 2, "127.0.0.1", port).withTimeout(timeout), stages, () -> false));
        return new ReplicaGroup[] {zero.get(30, TimeUnit.SECONDS), one.get(30, TimeUnit.SECONDS)};
    }

    /**
     * Only the control store's port is published: the stage stores take ports the system picks. Stores on the
     * ports after it once collided with Gloo's own listeners, and the peer then hung for the whole timeout.
     */
    @Test
    void ranksJoinWhenThePortsAfterTheControlStoreAreTaken() throws Exception {
        NativeRuntime.load();
        List<ServerSocket> taken = new ArrayList<>();
        int port = StorePorts.free();
        try {
            for (int next = port + 1; next <= port + 2; next++) {
                try {
                    taken.add(new ServerSocket(next));
                } catch (IOException alreadyInUse) {
                    // taken by someone else: as good for this test
                }
            }
            ReplicaGroup[] ranks = join(port, 2, Duration.ofSeconds(30), () -> false);
            try (ReplicaGroup zero = ranks[0];
                    ReplicaGroup one = ranks[1]) {
                Tensor mine = torch.ones(3);
                Tensor theirs = torch.ones(3).mul(new Scalar(3.0));
                CompletableFuture<Void> other = CompletableFuture.runAsync(() -> one.average(1, theirs));
                zero.average(1, mine);
                other.get(30, TimeUnit.SECONDS);
                assertThat(mine.sum().item_float()).isEqualTo(6.0f);
                assertThat(theirs.sum().item_float()).isEqualTo(6.0f);
            }
        } finally {
            for (ServerSocket socket : taken) {
                socket.close();
            }
        }
    }

    /** One rank stops taking part (a hung peer). */
    @Test
    void aRankWaitingOnAHungPeerGivesUpOnceTheRunIsAbandoned() throws Exception {
        NativeRuntime.load();
        int port = StorePorts.free();
        AtomicBoolean abandoned = new AtomicBoolean();
        // the collective timeout is far longer than the test waits: only abandoning can end the wait in time
        Duration timeout = Duration.ofSeconds(60);
        ReplicaGroup[] ranks = join(port, timeout, abandoned::get);
        try (ReplicaGroup zero = ranks[0];
                ReplicaGroup one = ranks[1]) {
            giveUpOnAHungPeer(zero, one, abandoned);
        }
    }

    private static void giveUpOnAHungPeer(ReplicaGroup zero, ReplicaGroup one, AtomicBoolean abandoned)
            throws Exception {

        // both take part: the collective completes
        CompletableFuture<Integer> both = CompletableFuture.supplyAsync(() -> one.agreeOnMaximum(7));
        assertThat(zero.agreeOnMaximum(3)).isEqualTo(7);
        assertThat(both.get(10, TimeUnit.SECONDS)).isEqualTo(7);

        // rank 1 hangs (never joins); rank 0 waits until its run is abandoned, then fails at once
        CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> zero.agreeOnMaximum(1));
        Thread.sleep(300);
        assertThat(waiting).as("still waiting for the hung peer").isNotDone();
        assertGivesUpOnceAbandoned(waiting, abandoned);

        // the late peer's collective meets the one rank 0 left behind, so nothing stays blocked
        assertThat(CompletableFuture.supplyAsync(() -> one.agreeOnMaximum(0)).get(10, TimeUnit.SECONDS))
                .isEqualTo(1);
    }

    /** A peer that never comes (its runner died before joining): the join gives up once the run is abandoned. */
    @Test
    void aRankWhosePeerNeverJoinsGivesUpOnceTheRunIsAbandoned() throws Exception {
        NativeRuntime.load();
        int port = StorePorts.free();
        AtomicBoolean abandoned = new AtomicBoolean();
        // the join timeout is far longer than the test waits: only abandoning can end the wait in time
        DataParallelGroup rankZero =
                DataParallelGroup.evenly(0, 2, "127.0.0.1", port).withTimeout(Duration.ofSeconds(60));
        CompletableFuture<ReplicaGroup> joining =
                CompletableFuture.supplyAsync(() -> new ReplicaGroup(rankZero, 1, abandoned::get));
        Thread.sleep(500);
        assertThat(joining).as("still waiting for rank 1").isNotDone();

        assertThat(assertGivesUpOnceAbandoned(joining, abandoned)).hasMessageContaining("1 of 2 processes joined");
    }

    /** Abandons the run; the wait must then fail with a lost peer within a second. Returns that failure. */
    private static Throwable assertGivesUpOnceAbandoned(CompletableFuture<?> waiting, AtomicBoolean abandoned)
            throws Exception {
        long abandonedAt = System.nanoTime();
        abandoned.set(true);
        try {
            waiting.get(10, TimeUnit.SECONDS);
            throw new AssertionError("the wait ended without its peer");
        } catch (ExecutionException e) {
            assertThat(Duration.ofNanos(System.nanoTime() - abandonedAt)).isLessThan(Duration.ofSeconds(1));
            assertThat(e.getCause()).isInstanceOf(PeerLostException.class).hasMessageContaining("abandoned");
            return e.getCause();
        }
    }

    /** Rank 1 may start first: it waits for rank 0's store and the group forms once rank 0 comes. */
    @Test
    void aRankThatStartsBeforeRankZeroJoinsWhenRankZeroComes() throws Exception {
        NativeRuntime.load();
        int port = StorePorts.free();
        CompletableFuture<ReplicaGroup> one = CompletableFuture.supplyAsync(() -> new ReplicaGroup(
                DataParallelGroup.evenly(1, 2, "127.0.0.1", port).withTimeout(Duration.ofSeconds(30)), 1, () -> false));
        Thread.sleep(1_000);
        ReplicaGroup zero = new ReplicaGroup(
                DataParallelGroup.evenly(0, 2, "127.0.0.1", port).withTimeout(Duration.ofSeconds(30)), 1, () -> false);
        try (zero;
                ReplicaGroup late = one.get(30, TimeUnit.SECONDS)) {
            CompletableFuture<Integer> other = CompletableFuture.supplyAsync(() -> late.agreeOnMaximum(5));
            assertThat(zero.agreeOnMaximum(2)).isEqualTo(5);
            assertThat(other.get(10, TimeUnit.SECONDS)).isEqualTo(5);
        }
    }

    /**
     * A closed group has deleted its native groups and stores, in that order, there and then: rank 0's stores
     * listen no more, so the next run can take the same ports. Left to the GC, a store could be deleted before
     * the group that still points to it, corrupting the heap.
     */
    @Test
    void closingAGroupReleasesItsStoresAtOnce() throws Exception {
        NativeRuntime.load();
        int port = StorePorts.free();
        ReplicaGroup[] ranks = join(port, Duration.ofSeconds(60), () -> false);
        CompletableFuture<Integer> other = CompletableFuture.supplyAsync(() -> ranks[1].agreeOnMaximum(4));
        assertThat(ranks[0].agreeOnMaximum(3)).isEqualTo(4);
        assertThat(other.get(10, TimeUnit.SECONDS)).isEqualTo(4);
        assertThat(listening(port))
                .as("rank 0's control store while the group is open")
                .isTrue();

        ranks[1].close();
        ranks[0].close();

        assertThat(listening(port)).as("rank 0's control store once closed").isFalse();
        assertThat(listening(port + 1)).as("rank 0's stage store once closed").isFalse();
        // and a new group forms on the very same ports
        ReplicaGroup[] again = join(port, Duration.ofSeconds(60), () -> false);
        try (ReplicaGroup zero = again[0];
                ReplicaGroup one = again[1]) {
            CompletableFuture<Integer> late = CompletableFuture.supplyAsync(() -> one.agreeOnMaximum(1));
            assertThat(zero.agreeOnMaximum(2)).isEqualTo(2);
            assertThat(late.get(10, TimeUnit.SECONDS)).isEqualTo(2);
        }
    }

    /**
     * A store deleted before its process group leaves the group's teardown decrementing a refcount inside the freed
     * store. With this thread's glibc cache full, the freed store (a few hundred bytes) goes to the unsorted bin,
     * the decrement lands on its list link, and the next allocations abort the JVM ("malloc(): unsorted double
     * linked list corrupted", exit 134): the crash gpu-runner's test JVM had when the GC freed stores first. So this
     * test crashes the fork unless close deletes each store after its group.
     */
    @Test
    void closingDeletesEachStoreOnlyAfterItsProcessGroup() throws Exception {
        NativeRuntime.load();
        ReplicaGroup[] ranks = join(StorePorts.free(), Duration.ofSeconds(60), () -> false);
        CompletableFuture<Integer> other = CompletableFuture.supplyAsync(() -> ranks[1].agreeOnMaximum(6));
        assertThat(ranks[0].agreeOnMaximum(5)).isEqualTo(6);
        assertThat(other.get(10, TimeUnit.SECONDS)).isEqualTo(6);

        fillThreadCache();
        ranks[1].close();
        ranks[0].close();
        allocateAcrossSizes();
    }

    /** Fills this thread's glibc tcache for every small size: chunks freed next go to the shared bins. */
    private static void fillThreadCache() {
        List<Pointer> chunks = new ArrayList<>();
        for (long size = 24; size <= 1032; size += 16) {
            for (int i = 0; i < 7; i++) {
                chunks.add(Pointer.malloc(size));
            }
        }
        chunks.forEach(Pointer::free);
    }

    /** Allocations of many sizes, which walk the unsorted bin where a corrupted link aborts the process. */
    private static void allocateAcrossSizes() {
        List<Pointer> chunks = new ArrayList<>();
        for (long size = 40; size <= 8192; size += 56) {
            chunks.add(Pointer.malloc(size));
        }
        chunks.forEach(Pointer::free);
    }

    private static boolean listening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
