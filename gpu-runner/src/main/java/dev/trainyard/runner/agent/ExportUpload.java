package dev.trainyard.runner.agent;

import dev.trainyard.client.ApiException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * Sends a completed attempt's final export (the engine's {@code model/} folder) to the API, each file with its
 * SHA-256. The API lets the attempt end SUCCEEDED only once the weights and config are stored, so this runs
 * before the end is reported.
 */
final class ExportUpload {
    /** What the engine writes into the export folder; model.pt only for TorchScript models. */
    static final List<String> FILES = List.of("config.json", "model.safetensors", "model.pt");

    private ExportUpload() {}

    /** Uploads every export file present in {@code folder}, retrying transient failures; returns the count. */
    static int send(ApiSession session, long attemptId, String leaseToken, Path folder)
            throws ApiException, IOException {
        int sent = 0;
        for (String name : FILES) {
            Path file = folder.resolve(name);
            if (!Files.isRegularFile(file)) {
                continue;
            }
            String sha256 = sha256(file);
            ApiSession.withRetries(
                    () -> {
                        session.uploadExportFile(attemptId, name, file, sha256, leaseToken);
                        return null;
                    },
                    Duration.ofMinutes(10));
            sent++;
        }
        return sent;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
