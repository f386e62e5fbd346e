package dev.trainyard.runner.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An open checkpoint, whole or sharded, whose files each have their manifest and its size and whose headers were
 * read, but none of whose values: a restore asks for the regions of the tensors its process holds, and only the
 * bytes of the pieces that overlap them are read. So a process resuming under any layout holds its own share of the
 * state, never the whole model.
 *
 * <p>The values are verified after they are read, not before: {@link #verify()} hashes every file against its
 * manifest and proves that each byte read (headers included) is the verified file's byte at that place (see {@link
 * CheckedFile} for why checking first and reading later is unsound). A restore reads, then verifies, and refuses the
 * checkpoint before it counts as restored (before the run takes a step, reports its position or writes anything).
 */
public final class CheckpointReader implements AutoCloseable {

    /**
     * Where a piece of a global tensor lies: the tensor's kind-prefixed name and shape, the piece's region of it,
     * and the byte of the file where the region's row-major values start.
     */
    record Located(String name, long[] shape, TensorRegion region, CheckedFile file, long position) {}

    private final Map<String, String> metadata;
    private final Map<String, List<Located>> pieces;
    private final List<CheckedFile> files;
    // one reader serves one restore, on one thread: its reads share one buffer
    private final ByteBuffer scratch = SafetensorsFormat.scratch();
    private long bytesRead;
    private long largestRead;

    /**
     * A reader over {@code pieces} (by global, kind-prefixed name) in the open {@code files}, which it closes.
     * Refuses pieces that disagree on their tensor's shape or do not add up to every element of it.
     */
    CheckpointReader(Map<String, String> metadata, List<Located> pieces, List<CheckedFile> files) {
        this.metadata = metadata;
        this.files = files;
        this.pieces = new LinkedHashMap<>();
        pieces.forEach(p ->
                this.pieces.computeIfAbsent(p.name(), n -> new ArrayList<>()).add(p));
        requireTiled();
    }

    public long step() {
        return Long.parseLong(metadata.get("step"));
    }

    public long dataPosition() {
        return Long.parseLong(metadata.get("dataPosition"));
    }

    public int stagesWrittenWith() {
        return Integer.parseInt(metadata.get("stages"));
    }

    public String specJson() {
        return metadata.get("spec");
    }

    /** The global names of the parameters, in the order the checkpoint lists them. */
    public List<String> parameterNames() {
        List<String> names = new ArrayList<>();
        for (String name : pieces.keySet()) {
            if (name.startsWith(CheckpointState.PARAM)) {
                names.add(name.substring(CheckpointState.PARAM.length()));
            }
        }
        return names;
    }

    /** The parameters by global name. */
    public TensorSource parameters() {
        return kind(CheckpointState.PARAM);
    }

    /** The buffers by global name (none in a checkpoint written before checkpoints carried them). */
    public TensorSource buffers() {
        return kind(CheckpointState.BUFFER);
    }

    /** AdamW's first moments, named like their parameters. */
    public TensorSource firstMoments() {
        return kind(CheckpointState.FIRST_MOMENT);
    }

    /** AdamW's second moments, named like their parameters. */
    public TensorSource secondMoments() {
        return kind(CheckpointState.SECOND_MOMENT);
    }

    /** Every tensor read whole: the state as one process that holds all of it (an export, a whole-model restore). */
    public CheckpointState whole() {
        List<HostTensor> tensors = new ArrayList<>();
        long held = 0;
        for (Map.Entry<String, List<Located>> e : pieces.entrySet()) {
            long[] shape = e.getValue().get(0).shape();
            tensors.add(new HostTensor(e.getKey(), shape, read(e.getKey(), TensorRegion.whole(shape))));
            held += 4 * TensorRegion.whole(shape).elements();
        }
        largestRead = Math.max(largestRead, held); // handed out at once
        return CheckpointState.of(metadata, tensors);
    }

    /** Bytes of tensor values read so far. */
    public long bytesRead() {
        return bytesRead;
    }

    /**
     * The most bytes of values one call handed out at once: a region for a restore that loads each region into its
     * tensors as it is read, everything for {@link #whole()}.
     */
    public long largestRead() {
        return largestRead;
    }

    /** Bytes of tensor values in the whole checkpoint. */
    public long checkpointBytes() {
        long bytes = 0;
        for (List<Located> located : pieces.values()) {
            for (Located p : located) {
                bytes += 4 * p.region().elements();
            }
        }
        return bytes;
    }

    private TensorSource kind(String prefix) {
        return new TensorSource() {
            @Override
            public long[] shape(String name) {
                List<Located> located = pieces.get(prefix + name);
                return located == null ? null : located.get(0).shape().clone();
            }

            @Override
            public float[] read(String name, TensorRegion region) {
                return CheckpointReader.this.read(prefix + name, region);
            }
        };
    }

    /**
     * {@code region} of the tensor {@code name}, read from the pieces that overlap it, each overlap as few
     * positioned reads as its rows allow; refused unless the pieces cover every element of the region exactly once.
     */
    float[] read(String name, TensorRegion region) {
        List<Located> located = pieces.get(name);
        if (located == null || !region.fits(located.get(0).shape())) {
            throw new CheckpointIntegrityException("checkpoint has no region " + region + " of " + name);
        }
        float[] values = new float[(int) region.elements()];
        long covered = 0;
        for (Located piece : located) {
            covered += readOverlap(piece, region, values);
        }
        if (covered != values.length) {
            throw new CheckpointIntegrityException("the pieces of " + name + " cover " + covered + " of the "
                    + values.length + " elements of " + region + ": refusing a partial restore");
        }
        bytesRead += 4L * values.length;
        largestRead = Math.max(largestRead, 4L * values.length);
        return values;
    }

    private long readOverlap(Located piece, TensorRegion region, float[] values) {
        try {
            return TensorRegion.forEachRun(piece.region(), region, (from, to, length) -> {
                try {
                    SafetensorsFormat.readFloats(
                            piece.file(), piece.position() + 4 * from, values, (int) to, length, scratch);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw new CheckpointIntegrityException(
                    "cannot read checkpoint " + piece.file().path() + ": "
                            + e.getCause().getMessage(),
                    e);
        }
    }

    /** Every tensor's pieces agree on its shape and hold as many elements as it has (checked before any read). */
    private void requireTiled() {
        pieces.forEach((name, located) -> {
            long[] shape = located.get(0).shape();
            long held = 0;
            for (Located p : located) {
                if (!Arrays.equals(shape, p.shape())) {
                    throw new CheckpointIntegrityException("pieces of " + name + " disagree on its shape");
                }
                held += p.region().elements();
            }
            long elements = TensorRegion.whole(shape).elements();
            if (held != elements) {
                throw new CheckpointIntegrityException("the shards hold " + held + " of the " + elements
                        + " elements of " + name + ": refusing a partial restore");
            }
        });
    }

    /**
     * Refuses the checkpoint unless every file matches its manifest's size and SHA-256 now and every byte read from
     * it so far (its header included) is that file's: one sequential hash of each file (see {@link CheckedFile}).
     * Call it after reading what a restore needs and before using any of it beyond tensors that are thrown away
     * when it refuses.
     */
    public void verify() {
        files.forEach(CheckedFile::verify);
    }

    @Override
    public void close() {
        files.forEach(CheckedFile::close);
    }
}
