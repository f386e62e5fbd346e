package dev.trainyard.runner.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * One checkpoint file open for reading, whose every read is remembered (where, how long, the SHA-256 of the bytes
 * as read) so that {@link #verify()} can prove afterwards that the bytes used are bytes of the file its manifest
 * describes.
 *
 * <p>Why not hash first and read later: the file can change between the two (another process writing it, a
 * tampered upload cache), and the values would then be used unverified. Why not hash while reading: a restore
 * reads the regions its tensors need in the engine's order, not the file's, so a single sequential pass cannot
 * serve them without holding what it passed. So the reads come first, each digested as it is read, and one
 * sequential pass at the end hashes the whole file against the manifest and, on the way, each remembered range
 * again: the file that matches the manifest must hold, at every position read, bytes with the digest of the bytes
 * used. SHA-256 being collision resistant, the bytes used are then the bytes verified, whatever the file did in
 * between (changed and changed back included). The cost is the one hash pass the check before reading took, plus
 * hashing the bytes used twice; a file's size and its manifest's presence are still checked at open, so a
 * truncated or half-written file is refused before anything is read.
 */
final class CheckedFile implements SafetensorsFormat.ByteSource, AutoCloseable {

    private static final int VERIFY_CHUNK = 1 << 20;

    /** A range of the file that was read, and the SHA-256 of the bytes it held then. */
    private record Run(long position, int length, byte[] digest) {
        long end() {
            return position + length;
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final String expectedSha256;
    private final long expectedBytes;
    private final MessageDigest runDigest = newDigest();
    private final List<Run> runs = new ArrayList<>();

    private CheckedFile(Path path, FileChannel channel, String expectedSha256, long expectedBytes) {
        this.path = path;
        this.channel = channel;
        this.expectedSha256 = expectedSha256;
        this.expectedBytes = expectedBytes;
    }

    /**
     * Opens {@code path} to be read and later verified against {@code sha256} and {@code bytes} (its manifest's);
     * refuses at once a file whose size already differs.
     */
    static CheckedFile open(Path path, String sha256, long bytes) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        CheckedFile file = new CheckedFile(path, channel, sha256, bytes);
        if (channel.size() != bytes) {
            file.close();
            throw new CheckpointIntegrityException("checkpoint " + path + " does not match its manifest (" + bytes
                    + " bytes expected, " + Files.size(path) + " found): refusing to load it");
        }
        return file;
    }

    Path path() {
        return path;
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    /** Fills {@code into} from byte {@code position} on, remembering the range and the digest of what it held. */
    @Override
    public void readFully(ByteBuffer into, long position) throws IOException {
        int start = into.position();
        while (into.hasRemaining()) {
            int read = channel.read(into, position + into.position() - start);
            if (read < 0) {
                throw new IOException("unexpected end of file");
            }
        }
        int length = into.position() - start;
        ByteBuffer used = into.duplicate().position(start).limit(start + length);
        runDigest.update(used);
        runs.add(new Run(position, length, runDigest.digest()));
    }

    /**
     * Hashes the whole file once, in order, and refuses it unless its size and SHA-256 match the manifest and every
     * range read so far held, then, the bytes it holds now. Reads after this call are checked by the next one.
     */
    void verify() {
        try {
            long bytes = channel.size();
            MessageDigest whole = newDigest();
            RunChecks checks = new RunChecks(runs);
            ByteBuffer chunk = ByteBuffer.allocate(VERIFY_CHUNK);
            for (long at = 0; at < bytes; ) {
                chunk.clear().limit((int) Math.min(VERIFY_CHUNK, bytes - at));
                int n = channel.read(chunk, at);
                if (n < 0) {
                    break; // shrank under us: the size check below refuses it
                }
                chunk.flip();
                whole.update(chunk.duplicate());
                checks.feed(chunk, at);
                at += n;
            }
            String sha256 = HexFormat.of().formatHex(whole.digest());
            if (channel.size() != expectedBytes || !sha256.equals(expectedSha256)) {
                throw new CheckpointIntegrityException("checkpoint " + path + " does not match its manifest (sha256 "
                        + sha256 + ", expected " + expectedSha256 + "): refusing to load it");
            }
            checks.requireAllMatched();
            runs.clear();
        } catch (IOException e) {
            throw new CheckpointIntegrityException("cannot read checkpoint " + path + ": " + e.getMessage(), e);
        }
    }

    /** The remembered ranges, fed the file's bytes in order during {@link #verify()}, each compared at its end. */
    private final class RunChecks {
        private final List<Run> pending;
        private final List<Run> active = new ArrayList<>();
        private final List<MessageDigest> digests = new ArrayList<>();
        private int next;
        private Run changed;

        RunChecks(List<Run> runs) {
            pending = new ArrayList<>(runs);
            pending.sort(Comparator.comparingLong(Run::position));
        }

        /** The bytes of {@code chunk} (its position to limit), which lie at byte {@code at} of the file. */
        void feed(ByteBuffer chunk, long at) {
            long end = at + chunk.remaining();
            while (next < pending.size() && pending.get(next).position() < end) {
                active.add(pending.get(next++));
                digests.add(newDigest());
            }
            for (int i = 0; i < active.size(); ) {
                Run run = active.get(i);
                long from = Math.max(run.position(), at);
                long to = Math.min(run.end(), end);
                if (from < to) {
                    int offset = chunk.position() + (int) (from - at);
                    digests.get(i).update(chunk.duplicate().position(offset).limit(offset + (int) (to - from)));
                }
                if (run.end() <= end) {
                    if (!Arrays.equals(run.digest(), digests.get(i).digest()) && changed == null) {
                        changed = run;
                    }
                    active.remove(i);
                    digests.remove(i);
                } else {
                    i++;
                }
            }
        }

        void requireAllMatched() {
            Run unchecked = changed != null ? changed : next < pending.size() ? pending.get(next) : null;
            if (unchecked == null && !active.isEmpty()) {
                unchecked = active.get(0);
            }
            if (unchecked != null) {
                throw new CheckpointIntegrityException("checkpoint " + path
                        + " changed while it was being read: bytes ["
                        + unchecked.position() + ", " + unchecked.end() + ") as read differ from the file that matches"
                        + " its manifest; refusing the restore");
            }
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // read-only: nothing is lost when closing fails
        }
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
