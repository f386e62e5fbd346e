package dev.trainyard.runner.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Checkpoints in one directory: {@code step-NNNNNNNN.safetensors} plus a manifest with its SHA-256 and size.
 * Each file is written to a temporary name, flushed to disk and renamed, data before manifest, so a reader
 * that finds a manifest finds a complete file; a file that does not match its manifest is refused.
 */
public final class CheckpointStore {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DATA_SUFFIX = ".safetensors";
    private static final String MANIFEST_SUFFIX = ".manifest.json";

    private final Path directory;

    public CheckpointStore(Path directory) {
        this.directory = directory;
    }

    public Path directory() {
        return directory;
    }

    /** Writes {@code state} atomically and returns where and what was written. */
    public CheckpointWritten write(CheckpointState state, double evalLoss) {
        return write(
                state,
                CapturedModel.of(new ModelState(
                        state.parameters(), state.buffers(), state.firstMoments(), state.secondMoments())),
                evalLoss);
    }

    /**
     * Writes {@code model} atomically, each tensor straight from where the capture left its values, with the run's
     * position and spec from {@code position} (whose own tensors are not written), and returns where and what was
     * written. Does not release {@code model}.
     */
    public CheckpointWritten write(CheckpointState position, CapturedModel model, double evalLoss) {
        try {
            Files.createDirectories(directory);
            String base = baseName(position.step());
            Path data = directory.resolve(base + DATA_SUFFIX);
            String sha256 = writeAtomically(
                    data, out -> SafetensorsFormat.writeCaptured(out, tensors(model), metadata(position)));
            long bytes = Files.size(data);
            writeManifest(
                    data,
                    manifest(CheckpointState.FORMAT, data, position.step(), sha256, bytes)
                            .put("evalLoss", evalLoss));
            return new CheckpointWritten(data, position.step(), sha256, bytes, evalLoss);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint to " + directory, e);
        }
    }

    /**
     * Stores a checkpoint that comes from elsewhere (the platform's copy to resume from) under this store's name
     * for its step, with a manifest of the size and SHA-256 it must have: {@link #load} checks both, so a copy
     * that arrived damaged is refused there. Returns the file to resume from.
     */
    public Path receive(long step, String sha256, long bytes, InputStream content) throws IOException {
        Files.createDirectories(directory);
        String base = baseName(step);
        Path data = directory.resolve(base + DATA_SUFFIX);
        Files.copy(content, data, StandardCopyOption.REPLACE_EXISTING);
        writeManifest(data, manifest(CheckpointState.FORMAT, data, step, sha256, bytes));
        return data;
    }

    /**
     * Stores one shard of a sharded checkpoint that comes from elsewhere (the platform's copy), as {@link #receive}
     * does a whole one; the checkpoint loads once every shard of its step is here. Returns the shard's file.
     */
    public Path receiveShard(long step, int shard, int shards, String sha256, long bytes, InputStream content)
            throws IOException {
        Files.createDirectories(directory);
        Path data = directory.resolve(ShardedCheckpoint.baseName(step, shard, shards) + DATA_SUFFIX);
        Files.copy(content, data, StandardCopyOption.REPLACE_EXISTING);
        writeManifest(
                data,
                manifest(ShardedCheckpoint.FORMAT, data, step, sha256, bytes)
                        .put("shard", shard)
                        .put("shards", shards));
        return data;
    }

    /**
     * Writes this process's shard of a sharded checkpoint (its own pieces, no gathering) atomically, data before
     * manifest, and returns where and what was written.
     */
    public CheckpointWritten writeShard(ShardedCheckpoint.Header header, ModelShard shard, double evalLoss) {
        return writeShard(header, CapturedShard.of(shard), evalLoss);
    }

    /**
     * Writes this process's shard as {@link #writeShard(ShardedCheckpoint.Header, ModelShard, double)} does, each
     * piece straight from where the capture left its values. Does not release {@code shard}.
     */
    public CheckpointWritten writeShard(ShardedCheckpoint.Header header, CapturedShard shard, double evalLoss) {
        try {
            Files.createDirectories(directory);
            Path data = directory.resolve(
                    ShardedCheckpoint.baseName(header.step(), header.shard(), header.shards()) + DATA_SUFFIX);
            List<CapturedPiece> pieces = shard.labelled();
            String sha256 = writeAtomically(
                    data,
                    out -> SafetensorsFormat.writeCaptured(
                            out, ShardedCheckpoint.fileTensors(pieces), ShardedCheckpoint.metadata(header, pieces)));
            long bytes = Files.size(data);
            writeManifest(
                    data,
                    manifest(ShardedCheckpoint.FORMAT, data, header.step(), sha256, bytes)
                            .put("shard", header.shard())
                            .put("shards", header.shards())
                            .put("layout", header.layout())
                            .put("evalLoss", evalLoss));
            return new CheckpointWritten(data, header.step(), sha256, bytes, evalLoss, header.shard(), header.shards());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint shard to " + directory, e);
        }
    }

    /**
     * Loads a checkpoint from its file or manifest, a whole checkpoint or, given any shard of a sharded one, all of
     * its shards put together, and returns it once every file's size and SHA-256 matched its manifest with the
     * bytes read (see {@link CheckpointReader#verify}). Holds the whole state: a restore that needs only its own
     * part of it {@link #open}s the checkpoint instead.
     */
    public static CheckpointState load(Path path) {
        try (CheckpointReader reader = open(path)) {
            CheckpointState state = reader.whole();
            reader.verify();
            return state;
        }
    }

    /**
     * Opens a checkpoint from its file or manifest, a whole one or, given any shard, a sharded one (see {@link
     * ShardedCheckpoint#open}): each file's manifest found and its size checked, its header read, no values yet.
     * Nothing read from it may be kept before {@link CheckpointReader#verify} accepted it.
     */
    public static CheckpointReader open(Path path) {
        if (ShardedCheckpoint.isShard(path)) {
            return ShardedCheckpoint.open(path);
        }
        Path data = path.toString().endsWith(MANIFEST_SUFFIX) ? sibling(path, MANIFEST_SUFFIX, DATA_SUFFIX) : path;
        CheckedFile channel = openChecked(data);
        try {
            SafetensorsFormat.Header header = SafetensorsFormat.readHeader(channel, data);
            Map<String, String> meta = header.metadata();
            if (!CheckpointState.FORMAT.equals(meta.get("format"))) {
                throw new CheckpointIntegrityException(
                        "not a Trainyard checkpoint (format " + meta.get("format") + ")");
            }
            List<CheckpointReader.Located> pieces = new ArrayList<>();
            for (SafetensorsFormat.Entry e : header.entries()) {
                pieces.add(new CheckpointReader.Located(
                        e.name(), e.shape(), TensorRegion.whole(e.shape()), channel, e.position()));
            }
            return new CheckpointReader(meta, pieces, List.of(channel));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw failedRead(data, e);
        }
    }

    /** What a reader checks a data file against: its format, name, step, SHA-256 and size. */
    private static ObjectNode manifest(String format, Path data, long step, String sha256, long bytes) {
        return JSON.createObjectNode()
                .put("format", format)
                .put("file", data.getFileName().toString())
                .put("step", step)
                .put("sha256", sha256)
                .put("bytes", bytes);
    }

    /** Writes the manifest beside its data file, after the data (a reader finding it finds the data whole). */
    private static void writeManifest(Path data, ObjectNode manifest) throws IOException {
        writeAtomically(manifestOf(data), out -> JSON.writeValue(out, manifest));
    }

    /** The manifest beside a checkpoint's data file. */
    static Path manifestOf(Path data) {
        return sibling(data, DATA_SUFFIX, MANIFEST_SUFFIX);
    }

    /**
     * Opens a checkpoint file for reading, to be verified against its manifest's size and SHA-256 once read (see
     * {@link CheckedFile}); refuses at once a file without manifest or of another size than the manifest's.
     */
    static CheckedFile openChecked(Path data) {
        Path manifestPath = manifestOf(data);
        try {
            if (!Files.exists(manifestPath)) {
                throw new CheckpointIntegrityException("checkpoint " + data + " has no manifest: incomplete write?");
            }
            var manifest = JSON.readTree(manifestPath.toFile());
            return CheckedFile.open(
                    data,
                    manifest.path("sha256").asText(),
                    manifest.path("bytes").asLong());
        } catch (IOException e) {
            throw new CheckpointIntegrityException("cannot read checkpoint " + data + ": " + e.getMessage(), e);
        }
    }

    /** A failure while reading an opened checkpoint file, as the integrity error a restore reports. */
    static CheckpointIntegrityException failedRead(Path data, Exception e) {
        return e instanceof CheckpointIntegrityException c
                ? c
                : new CheckpointIntegrityException("cannot read checkpoint " + data + ": " + e.getMessage(), e);
    }

    /** The newest complete checkpoint in the directory, if any. */
    public java.util.Optional<Path> latest() {
        List<Path> all = completeCheckpoints();
        return all.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(all.get(all.size() - 1));
    }

    /** Deletes all but the newest {@code keepLast} checkpoints, and {@code keep} itself when given. */
    public void prune(int keepLast, java.util.Optional<Path> keep) {
        List<Path> all = completeCheckpoints();
        for (int i = 0; i < all.size() - keepLast; i++) {
            Path data = all.get(i);
            if (keep.isPresent() && keep.get().equals(data)) {
                continue;
            }
            try {
                // Manifest first: a data file without manifest is never loaded.
                Files.deleteIfExists(sibling(data, DATA_SUFFIX, MANIFEST_SUFFIX));
                Files.deleteIfExists(data);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Complete checkpoints (those with a manifest), oldest first. */
    public List<Path> completeCheckpoints() {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(p -> p.getFileName().toString().endsWith(MANIFEST_SUFFIX))
                    .map(p -> sibling(p, MANIFEST_SUFFIX, DATA_SUFFIX))
                    .filter(Files::exists)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a standalone safetensors file atomically (the final export) and returns its SHA-256. */
    public static String writeSafetensors(Path file, List<HostTensor> tensors, Map<String, String> metadata) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            return writeAtomically(file, out -> SafetensorsFormat.write(out, tensors, metadata));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** The SHA-256 of a file, in lower-case hex. */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = newDigest();
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static String baseName(long step) {
        return String.format("step-%08d", step);
    }

    private interface Writer {
        void writeTo(OutputStream out) throws IOException;
    }

    private static String writeAtomically(Path target, Writer writer) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        MessageDigest digest = newDigest();
        try (OutputStream out =
                new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(temp), 1 << 20), digest)) {
            writer.writeTo(out);
        }
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path sibling(Path path, String suffix, String replacement) {
        String name = path.getFileName().toString();
        return path.resolveSibling(name.substring(0, name.length() - suffix.length()) + replacement);
    }

    private static List<CapturedTensor> tensors(CapturedModel model) {
        List<CapturedTensor> all = new ArrayList<>();
        model.parameters().forEach(t -> all.add(renamed(CheckpointState.PARAM, t)));
        model.buffers().forEach(t -> all.add(renamed(CheckpointState.BUFFER, t)));
        model.firstMoments().forEach(t -> all.add(renamed(CheckpointState.FIRST_MOMENT, t)));
        model.secondMoments().forEach(t -> all.add(renamed(CheckpointState.SECOND_MOMENT, t)));
        return all;
    }

    private static CapturedTensor renamed(String prefix, CapturedTensor t) {
        return new CapturedTensor(prefix + t.name(), t.shape(), t.values());
    }

    private static Map<String, String> metadata(CheckpointState state) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", CheckpointState.FORMAT);
        meta.put("step", Long.toString(state.step()));
        meta.put("dataPosition", Long.toString(state.dataPosition()));
        meta.put("optimizerStep", Long.toString(state.optimizerStep()));
        meta.put("seed", Long.toString(state.seed()));
        meta.put("stages", Integer.toString(state.stagesWrittenWith()));
        meta.put("spec", state.specJson());
        return meta;
    }
}
