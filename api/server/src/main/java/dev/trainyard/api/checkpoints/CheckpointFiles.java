package dev.trainyard.api.checkpoints;

import dev.trainyard.api.config.TrainyardConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The filesystem checkpoint store: one folder per job under the configured directory. Uploads stream to a
 * temporary file while being hashed and are renamed into place only when their SHA-256 matches.
 */
@ApplicationScoped
public class CheckpointFiles {
    private final Path root;

    public CheckpointFiles(TrainyardConfig config) {
        this.root = Path.of(config.checkpoints().directory()).toAbsolutePath().normalize();
    }

    /** A file received in full, with its hash; not yet in its final place. */
    public record Received(Path temp, String sha256, long bytes) {}

    public Received receive(long jobId, InputStream body, long maxBytes) {
        try {
            Path dir = Files.createDirectories(root.resolve("job-" + jobId));
            Path temp = dir.resolve(".upload-" + UUID.randomUUID() + ".tmp");
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            long bytes = 0;
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(temp), digest)) {
                byte[] buffer = new byte[1 << 16];
                int n;
                while ((n = body.read(buffer)) > 0) {
                    bytes += n;
                    if (bytes > maxBytes) {
                        out.close();
                        Files.deleteIfExists(temp);
                        throw new CheckpointTooLargeException(maxBytes);
                    }
                    out.write(buffer, 0, n);
                }
            }
            return new Received(temp, HexFormat.of().formatHex(digest.digest()), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store checkpoint upload", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Moves a verified upload to its final name and returns the path relative to the store's root. */
    public String keep(Received received, long jobId, long attemptId, long step) {
        String relative =
                "job-" + jobId + "/step-" + String.format("%010d", step) + "-attempt-" + attemptId + ".safetensors";
        try {
            Files.move(
                    received.temp(),
                    root.resolve(relative),
                    StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move checkpoint into place", e);
        }
        return relative;
    }

    /** The folder, relative to the store's root, that holds the shards of a sharded checkpoint. */
    public static String shardFolder(long jobId, long attemptId, long step) {
        return "job-" + jobId + "/step-" + String.format("%010d", step) + "-attempt-" + attemptId + ".shards";
    }

    /**
     * Moves a verified shard into its checkpoint's folder, under the name the engine gives it (so a downloaded set
     * of shards loads as it is), and returns the path relative to the store's root.
     */
    public String keepShard(Received received, String folder, long step, int shard, int shards) {
        String relative = folder + "/" + String.format("step-%08d.shard-%d-of-%d.safetensors", step, shard, shards);
        try {
            Path target = resolve(relative);
            Files.createDirectories(target.getParent());
            Files.move(received.temp(), target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move checkpoint shard into place", e);
        }
        return relative;
    }

    /**
     * Moves a verified export file to {@code job-<id>/export/<name>}, replacing the file of an earlier attempt
     * atomically, and returns the path relative to the store's root. {@code name} is one of
     * {@link ExportIndex#NAMES}, checked by the caller.
     */
    public String keepExport(Received received, long jobId, String name) {
        String relative = "job-" + jobId + "/export/" + name;
        try {
            Path target = resolve(relative);
            Files.createDirectories(target.getParent());
            Files.move(received.temp(), target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move export file into place", e);
        }
        return relative;
    }

    public void discard(Received received) {
        delete(received.temp());
    }

    public Path resolve(String relative) {
        Path p = root.resolve(relative).normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("checkpoint path escapes the store: " + relative);
        }
        return p;
    }

    /**
     * Deletes a stored file, or a sharded checkpoint's folder with its shards; one that is already gone counts as
     * deleted.
     */
    public boolean delete(String relative) {
        Path p = resolve(relative);
        if (Files.isDirectory(p)) {
            try (var files = Files.list(p)) {
                if (!files.allMatch(CheckpointFiles::delete)) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return delete(p);
    }

    private static boolean delete(Path p) {
        try {
            Files.deleteIfExists(p);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Thrown when an upload exceeds the size limit. */
    public static final class CheckpointTooLargeException extends RuntimeException {
        public CheckpointTooLargeException(long max) {
            super("checkpoint larger than " + max + " bytes");
        }
    }
}
