package dev.trainyard.runner.engine;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Turns a model file's URI into a readable local file: a plain path or {@code file:} URI as it is, an
 * http(s) URI downloaded into the run's cache directory (under a name derived from the URI, written to a
 * temporary name and renamed, so a half-written download is never loaded).
 */
public final class ModelFile {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private ModelFile() {}

    /** The local file {@code uri} names, downloading it into {@code cacheDir} when it is remote. */
    public static Path resolve(String uri, Path cacheDir) {
        Path local = uri.startsWith("http://") || uri.startsWith("https://") ? download(uri, cacheDir) : localPath(uri);
        if (!Files.isRegularFile(local)) {
            throw new SpecException("model.uri " + uri + ": no such file (" + local + ")");
        }
        return local;
    }

    private static Path localPath(String uri) {
        if (!uri.startsWith("file:")) {
            return Path.of(uri);
        }
        try {
            return Path.of(new URI(uri));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new SpecException("model.uri " + uri + " is not a valid file: URI (" + e.getMessage() + ")", e);
        }
    }

    private static Path download(String uri, Path cacheDir) {
        Path target = cacheDir.resolve("model-" + shortHash(uri) + ".pt");
        try {
            Files.createDirectories(cacheDir);
            Path partial = Files.createTempFile(cacheDir, "download-", ".part");
            try {
                var connection = URI.create(uri).toURL().openConnection();
                connection.setConnectTimeout((int) TIMEOUT.toMillis());
                connection.setReadTimeout((int) TIMEOUT.toMillis());
                try (InputStream in = connection.getInputStream()) {
                    Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
            return target;
        } catch (IOException | IllegalArgumentException e) {
            throw new SpecException("model.uri " + uri + " could not be downloaded: " + e, e);
        }
    }

    private static String shortHash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
