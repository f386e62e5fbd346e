package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints are complete and unaltered, or they are refused. */
class CheckpointIntegrityTest {

    @TempDir
    Path tmp;

    private static CheckpointState state(long step) {
        List<HostTensor> params =
                List.of(new HostTensor("blocks.0.w", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
        List<HostTensor> zeros = List.of(new HostTensor("blocks.0.w", new long[] {2, 3}, new float[6]));
        return new CheckpointState(step, step, step, 9, 2, "{}", params, List.of(), zeros, zeros);
    }

    @Test
    void roundTripsStateAndReportsTheFilesDigest() throws Exception {
        CheckpointStore store = new CheckpointStore(tmp);
        CheckpointWritten written = store.write(state(5), 1.5);

        CheckpointState loaded = CheckpointStore.load(written.path());

        assertThat(written.sha256()).isEqualTo(CheckpointStore.sha256(written.path()));
        assertThat(written.bytes()).isEqualTo(Files.size(written.path()));
        assertThat(loaded.step()).isEqualTo(5);
        assertThat(loaded.stagesWrittenWith()).isEqualTo(2);
        assertThat(loaded.parameters().get(0).data()).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(loaded.parameters().get(0).shape()).containsExactly(2, 3);
    }

    @Test
    void aCorruptedFileFailsItsDigestAndIsRefused() throws Exception {
        CheckpointWritten written = new CheckpointStore(tmp).write(state(5), 1.5);
        try (RandomAccessFile file = new RandomAccessFile(written.path().toFile(), "rw")) {
            file.seek(file.length() - 3);
            file.write(0x7f);
        }

        assertThatThrownBy(() -> CheckpointStore.load(written.path()))
                .isInstanceOf(CheckpointIntegrityException.class)
                .hasMessageContaining("sha256");
    }

    @Test
    void aReceivedCopyIsStoredUnderItsStepAndVerifiedAgainstTheHashItCameWith() throws Exception {
        CheckpointWritten original = new CheckpointStore(tmp.resolve("written")).write(state(7), 1.5);
        CheckpointStore received = new CheckpointStore(tmp.resolve("received"));

        Path copy;
        try (var in = Files.newInputStream(original.path())) {
            copy = received.receive(7, original.sha256(), original.bytes(), in);
        }
        Path damaged;
        try (var in = Files.newInputStream(original.path())) {
            damaged = new CheckpointStore(tmp.resolve("damaged")).receive(7, "0".repeat(64), original.bytes(), in);
        }

        assertThat(received.latest()).contains(copy);
        assertThat(CheckpointStore.load(copy).step()).isEqualTo(7);
        assertThatThrownBy(() -> CheckpointStore.load(damaged))
                .isInstanceOf(CheckpointIntegrityException.class)
                .hasMessageContaining("sha256");
    }

    /** Where the values of the checkpoint tensor {@code name} start in {@code file}. */
    private static long valuesAt(Path file, String name) throws Exception {
        try (var channel = java.nio.channels.FileChannel.open(file)) {
            return SafetensorsFormat.readHeader(SafetensorsFormat.ByteSource.of(channel), file).entries().stream()
                    .filter(e -> e.name().equals(name))
                    .findFirst()
                    .orElseThrow()
                    .position();
        }
    }

    private static void overwriteFloat(Path file, long position, float value) throws Exception {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(position);
            raf.writeInt(Integer.reverseBytes(Float.floatToIntBits(value))); // safetensors is little-endian
        }
    }

    @Test
    void aFileAlteredAfterOpenIsRefusedWithTheValuesReadFromIt() throws Exception {
        Path file = new CheckpointStore(tmp).write(state(5), 1.5).path();
        long at = valuesAt(file, CheckpointState.PARAM + "blocks.0.w");

        try (CheckpointReader reader = CheckpointStore.open(file)) {
            overwriteFloat(file, at, 99f); // between open and read: another process writes the file
            float[] used = reader.parameters().require("blocks.0.w").data();

            assertThat(used[0]).isEqualTo(99f); // the altered byte was read...
            assertThatThrownBy(reader::verify) // ...and the restore that read it is refused
                    .isInstanceOf(CheckpointIntegrityException.class)
                    .hasMessageContaining("does not match its manifest");
        }
    }

    @Test
    void aFileAlteredWhileReadAndPutBackIsRefusedThoughItMatchesItsManifestAgain() throws Exception {
        Path file = new CheckpointStore(tmp).write(state(5), 1.5).path();
        long at = valuesAt(file, CheckpointState.PARAM + "blocks.0.w");

        try (CheckpointReader reader = CheckpointStore.open(file)) {
            overwriteFloat(file, at + 4, -7f);
            float[] used = reader.parameters().require("blocks.0.w").data();
            overwriteFloat(file, at + 4, 2f); // the original value: the whole file hashes as its manifest says

            assertThat(used).containsExactly(1, -7, 3, 4, 5, 6);
            assertThat(CheckpointStore.sha256(file))
                    .isEqualTo(new CheckpointStore(tmp.resolve("again"))
                            .write(state(5), 1.5)
                            .sha256());
            assertThatThrownBy(reader::verify)
                    .isInstanceOf(CheckpointIntegrityException.class)
                    .hasMessageContaining("changed while it was being read");
        }
    }

    @Test
    void aRegionReadFromAnUnalteredFileVerifies() throws Exception {
        Path file = new CheckpointStore(tmp).write(state(5), 1.5).path();

        try (CheckpointReader reader = CheckpointStore.open(file)) {
            float[] column =
                    reader.parameters().read("blocks.0.w", new TensorRegion(new long[] {0, 1}, new long[] {2, 1}));
            reader.firstMoments().require("blocks.0.w");
            reader.parameters().require("blocks.0.w"); // read twice: overlapping ranges

            assertThat(column).containsExactly(2, 5);
            reader.verify();
        }
    }

    @Test
    void aFileWithoutManifestIsTreatedAsIncomplete() throws Exception {
        CheckpointWritten written = new CheckpointStore(tmp).write(state(5), 1.5);
        Files.delete(tmp.resolve("step-00000005.manifest.json"));

        assertThatThrownBy(() -> CheckpointStore.load(written.path()))
                .isInstanceOf(CheckpointIntegrityException.class)
                .hasMessageContaining("manifest");
        assertThat(new CheckpointStore(tmp).latest()).isEmpty();
    }

    @Test
    void pruningKeepsTheNewestAndTheBest() {
        CheckpointStore store = new CheckpointStore(tmp);
        Path best = store.write(state(1), 0.5).path();
        for (long step = 2; step <= 5; step++) {
            store.write(state(step), 2.0);
        }

        store.prune(2, java.util.Optional.of(best));

        assertThat(store.completeCheckpoints())
                .extracting(p -> p.getFileName().toString())
                .containsExactly("step-00000001.safetensors", "step-00000004.safetensors", "step-00000005.safetensors");
    }

    @Test
    void theTrainerRefusesToResumeFromACorruptedCheckpoint() throws Exception {
        JobSpec spec = EngineRuns.tinyGpt(2, 0.0);
        EngineRuns.Recorded run = EngineRuns.train(spec, tmp.resolve("run"));
        Path checkpoint = run.result().lastCheckpoint().orElseThrow().path();
        try (RandomAccessFile file = new RandomAccessFile(checkpoint.toFile(), "rw")) {
            file.seek(file.length() / 2);
            file.write(file.read() ^ 1);
        }

        assertThatThrownBy(() -> Trainer.train(
                        TrainingRun.of(spec, 1, tmp.resolve("resumed")).resumingFrom(checkpoint), new TorchEngine()))
                .isInstanceOf(CheckpointIntegrityException.class);
    }
}
