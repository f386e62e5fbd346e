package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sharded checkpoint format on its own: pieces cut by flat runs and by tensor-parallel slices land in the right
 * places of the whole tensors, and a checkpoint with a shard missing or altered is refused, never half-loaded.
 */
class ShardedCheckpointTest {

    @TempDir
    Path tmp;

    private static HostTensor counting(String name, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] data = new float[(int) n];
        for (int i = 0; i < data.length; i++) {
            data[i] = i + 1;
        }
        return new HostTensor(name, shape, data);
    }

    @Test
    void flatRunsBecomeRegionsInFlatOrder() {
        long[] shape = {3, 4, 5};
        for (long from = 0; from < 60; from += 7) {
            for (long length = 1; from + length <= 60; length += 5) {
                List<TensorRegion> regions = TensorRegion.ofFlatRange(shape, from, length);
                // each region holds the next run of the range: fill a whole tensor from them and compare
                float[] whole = new float[60];
                long at = from;
                for (TensorRegion r : regions) {
                    float[] values = new float[(int) r.elements()];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = at + i + 1;
                    }
                    TensorRegion.copyOverlap(r, values, TensorRegion.whole(shape), whole);
                    at += values.length;
                }
                assertThat(at).isEqualTo(from + length);
                for (int i = 0; i < 60; i++) {
                    assertThat(whole[i]).isEqualTo(i >= from && i < from + length ? i + 1 : 0f);
                }
                assertThat(regions.size()).isLessThanOrEqualTo(5);
            }
        }
    }

    @Test
    void anyOwnersShareOfATensorSplitIntoPartsReassemblesIt() {
        // QKV-like: 3 parts along rows, each split over 2 tensor ranks; each rank's slice then cut in 3 flat runs
        ShardLayout layout = new ShardLayout(0, 3);
        HostTensor whole = counting("qkv", 12, 5);
        CheckpointStore store = new CheckpointStore(tmp);
        CheckpointWritten last = null;
        for (int writer = 0; writer < 3; writer++) {
            List<TensorPiece> pieces = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                for (TensorPiece p : TensorPiece.share(layout.slice(whole, rank, 2), writer, 3)) {
                    pieces.addAll(layout.toWhole(p, rank, 2));
                }
            }
            last = store.writeShard(header(writer, 3), new ModelShard(pieces, List.of(), List.of(), List.of()), 1.0);
        }

        try (CheckpointReader reader = CheckpointStore.open(last.path())) {
            HostTensor assembled = reader.parameters().require("qkv");
            HostTensor rankOne =
                    reader.parameters().sliced(Map.of("qkv", layout), 1, 2).require("qkv");

            assertThat(assembled.shape()).containsExactly(12, 5);
            assertThat(assembled.data()).containsExactly(whole.data());
            assertThat(rankOne.shape()).containsExactly(6, 5);
            assertThat(rankOne.data()).containsExactly(layout.slice(whole, 1, 2).data());
        }
    }

    private static ShardedCheckpoint.Header header(int shard, int shards) {
        return new ShardedCheckpoint.Header(4, 5, 4, 9, 1, "{}", "t1 p1 d3 zero1", shard, shards);
    }

    private CheckpointWritten writeShard(CheckpointStore store, HostTensor param, int shard, int shards) {
        ModelShard part = ModelShard.share(
                new ModelState(List.of(param), List.of(), List.of(param), List.of(param)), shard, shards);
        return store.writeShard(header(shard, shards), part, 2.5);
    }

    @Test
    void everyShardWrittenAloneLoadsAsTheWholeState() throws Exception {
        HostTensor param = counting("blocks.0.w", 7, 3);
        CheckpointStore store = new CheckpointStore(tmp);
        List<CheckpointWritten> written = IntStream.range(0, 3)
                .mapToObj(s -> writeShard(store, param, s, 3))
                .toList();

        CheckpointState loaded = CheckpointStore.load(written.get(2).path());

        assertThat(written).allSatisfy(w -> assertThat(w.shards()).isEqualTo(3));
        assertThat(written.get(1).sha256())
                .isEqualTo(CheckpointStore.sha256(written.get(1).path()));
        assertThat(loaded.step()).isEqualTo(4);
        assertThat(loaded.dataPosition()).isEqualTo(5);
        assertThat(loaded.parameters().get(0).data()).containsExactly(param.data());
        assertThat(loaded.secondMoments().get(0).shape()).containsExactly(7, 3);
    }

    @Test
    void aMissingShardIsRefusedByNumber() {
        HostTensor param = counting("blocks.0.w", 7, 3);
        CheckpointStore store = new CheckpointStore(tmp);
        CheckpointWritten zero = writeShard(store, param, 0, 3);
        writeShard(store, param, 2, 3);

        assertThatThrownBy(() -> CheckpointStore.load(zero.path()))
                .isInstanceOf(CheckpointIntegrityException.class)
                .hasMessageContaining("lacks shard(s) [1] of 3");
    }

    @Test
    void anAlteredShardIsRefused() throws Exception {
        HostTensor param = counting("blocks.0.w", 7, 3);
        CheckpointStore store = new CheckpointStore(tmp);
        CheckpointWritten zero = writeShard(store, param, 0, 2);
        CheckpointWritten one = writeShard(store, param, 1, 2);
        try (RandomAccessFile file = new RandomAccessFile(one.path().toFile(), "rw")) {
            file.seek(file.length() - 2);
            file.write(0x7f);
        }

        assertThatThrownBy(() -> CheckpointStore.load(zero.path()))
                .isInstanceOf(CheckpointIntegrityException.class)
                .hasMessageContaining(one.path().getFileName().toString())
                .hasMessageContaining("does not match its manifest");
        assertThat(Files.exists(zero.path())).isTrue();
    }

    @Test
    void aShardAlteredWhileReadAndPutBackIsRefusedByName() throws Exception {
        HostTensor param = counting("blocks.0.w", 7, 3);
        CheckpointStore store = new CheckpointStore(tmp);
        CheckpointWritten zero = writeShard(store, param, 0, 2);
        CheckpointWritten one = writeShard(store, param, 1, 2);
        byte[] original = Files.readAllBytes(one.path());

        try (CheckpointReader reader = CheckpointStore.open(zero.path())) {
            try (RandomAccessFile file = new RandomAccessFile(one.path().toFile(), "rw")) {
                file.seek(file.length() - 2); // a value of shard 1's last piece (second moments)
                file.write(0x7f);
            }
            float[] used = reader.secondMoments().require("blocks.0.w").data();
            Files.write(one.path(), original); // the shard matches its manifest again

            assertThat(used).doesNotContain(param.data()[20]); // the altered value was read
            assertThatThrownBy(reader::verify)
                    .isInstanceOf(CheckpointIntegrityException.class)
                    .hasMessageContaining(one.path().getFileName().toString())
                    .hasMessageContaining("changed while it was being read");
        }
    }

    @Test
    void aRestoreReadsOnlyTheBytesOfTheRegionsItAsksFor() {
        HostTensor param = counting("blocks.0.w", 7, 3);
        CheckpointStore store = new CheckpointStore(tmp);
        List<CheckpointWritten> written = IntStream.range(0, 3)
                .mapToObj(s -> writeShard(store, param, s, 3))
                .toList();

        try (CheckpointReader reader = CheckpointStore.open(written.get(0).path())) {
            // a ZeRO-like run of flat elements that crosses two writers' shares, and a tensor-parallel-like column
            float[] run = reader.firstMoments().readFlat("blocks.0.w", 5, 9);
            float[] column =
                    reader.secondMoments().read("blocks.0.w", new TensorRegion(new long[] {0, 2}, new long[] {7, 1}));

            assertThat(run).containsExactly(6, 7, 8, 9, 10, 11, 12, 13, 14);
            assertThat(column).containsExactly(3, 6, 9, 12, 15, 18, 21);
            assertThat(reader.bytesRead()).isEqualTo(4 * (9 + 7));
            assertThat(reader.checkpointBytes()).isEqualTo(4 * 3 * 21);
            assertThat(reader.largestRead()).isEqualTo(4 * 7);
        }
    }

    @Test
    void aWholeCheckpointFileIsReadByRegionToo() {
        HostTensor param = counting("blocks.0.w", 4, 5);
        CheckpointWritten written = new CheckpointStore(tmp)
                .write(
                        new CheckpointState(
                                3, 3, 3, 9, 1, "{}", List.of(param), List.of(), List.of(param), List.of(param)),
                        1.0);

        try (CheckpointReader reader = CheckpointStore.open(written.path())) {
            float[] rows =
                    reader.parameters().read("blocks.0.w", new TensorRegion(new long[] {2, 0}, new long[] {2, 5}));

            assertThat(rows).containsExactly(11, 12, 13, 14, 15, 16, 17, 18, 19, 20);
            assertThat(reader.bytesRead()).isEqualTo(4 * 10);
            assertThat(reader.step()).isEqualTo(3);
        }
    }

    @Test
    void piecesThatCoverATensorTwiceAreRefused() {
        HostTensor param = counting("blocks.0.w", 7, 3);
        CheckpointStore store = new CheckpointStore(tmp);
        // both shards claim the whole tensor: coverage is not exact
        ModelShard whole =
                ModelShard.share(new ModelState(List.of(param), List.of(), List.of(param), List.of(param)), 0, 1);
        store.writeShard(header(1, 2), whole, 2.5);
        store.writeShard(header(0, 2), whole, 2.5);

        assertThatThrownBy(() -> CheckpointStore.open(tmp.resolve("step-00000004.shard-0-of-2.safetensors")))
                .isInstanceOf(CheckpointIntegrityException.class)
                .hasMessageContaining("hold 42 of the 21 elements of param/blocks.0.w");
    }
}
