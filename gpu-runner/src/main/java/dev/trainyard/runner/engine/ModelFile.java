package dev.trainyard.runner.engine;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Turns a model file's URI into a readable local file through the run's {@link DataFetcher}: a local file as it
 * really is (links resolved), an http(s) URI downloaded into the run's cache directory (under a name derived from
 * the URI, written to a temporary name and renamed, so a half-written download is never loaded).
 */
public final class ModelFile {

    private ModelFile() {}

    /** The local file {@code uri} names, downloading it into {@code cacheDir} when it is remote. */
    public static Path resolve(String uri, Path cacheDir, DataFetcher fetcher) {
        return DataFetcher.isRemote(uri) ? download(uri, cacheDir, fetcher) : fetcher.localFile("model.uri", uri);
    }

    private static Path download(String uri, Path cacheDir, DataFetcher fetcher) {
        Path target = cacheDir.resolve("model-" + shortHash(uri) + ".pt");
        try {
            Files.createDirectories(cacheDir);
            Path partial = Files.createTempFile(cacheDir, "download-", ".part");
            try {
                try (OutputStream out = Files.newOutputStream(partial)) {
                    fetcher.download("model.uri", uri, out);
                }
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
            return target;
        } catch (IOException e) {
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
