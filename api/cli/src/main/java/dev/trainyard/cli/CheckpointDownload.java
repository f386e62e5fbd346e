package dev.trainyard.cli;

import dev.trainyard.client.ApiException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Streams a checkpoint or export file to disk and verifies its SHA-256 before it takes the target name.
 *
 * <p>Plain java.net.http rather than the generated client: the generated native client reads binary bodies into
 * a temporary file of its own choosing (named from Content-Disposition, deleted on exit) after buffering error
 * bodies as text, so a multi-gigabyte checkpoint would be written twice and the caller could not hash it while it
 * streams. Same base URL and token as the client.
 */
public final class CheckpointDownload {
    private final Api api;
    private final HttpClient http;

    public CheckpointDownload(Api api) {
        this.api = api;
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    /** Downloads to {@code target}; fails, leaving nothing behind, when the bytes do not hash to {@code sha256}. */
    public long download(long jobId, long checkpointId, String sha256, Path target) {
        return download(
                "/api/v1/jobs/" + jobId + "/checkpoints/" + checkpointId + "/content",
                "checkpoint " + checkpointId,
                sha256,
                target);
    }

    /** Downloads shard {@code shard} of a sharded checkpoint to {@code target}, verified against its own digest. */
    public long downloadShard(long jobId, long checkpointId, int shard, String sha256, Path target) {
        return download(
                "/api/v1/jobs/" + jobId + "/checkpoints/" + checkpointId + "/content?shard=" + shard,
                "shard " + shard + " of checkpoint " + checkpointId,
                sha256,
                target);
    }

    /** Downloads one file of a job's final export to {@code target}, verified as a checkpoint is. */
    public long downloadExportFile(long jobId, String name, String sha256, Path target) {
        return download("/api/v1/jobs/" + jobId + "/export/" + name, "export file " + name, sha256, target);
    }

    private long download(String path, String what, String sha256, Path target) {
        HttpRequest request = HttpRequest.newBuilder(api.uri(path))
                .header("Authorization", "Bearer " + api.token())
                .header("Accept", "application/octet-stream, application/problem+json")
                .GET()
                .build();
        Path dir = target.toAbsolutePath().getParent();
        Path partial = dir.resolve(target.getFileName() + ".part");
        try {
            Files.createDirectories(dir);
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
                    throw new ApiException(response.statusCode(), "download failed", response.headers(), text);
                }
                String actual = copyHashing(body, partial);
                if (!actual.equalsIgnoreCase(sha256)) {
                    throw new CliFailure(
                            ExitCodes.FAILURE,
                            "checksum mismatch for " + what + ": expected SHA-256 " + sha256 + ", got " + actual
                                    + "; nothing was saved");
                }
            }
            long size = Files.size(partial);
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
            return size;
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.FAILURE, "download of " + what + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(ExitCodes.FAILURE, "interrupted");
        } finally {
            deleteQuietly(partial);
        }
    }

    /** Copies the stream to the file and answers the hex SHA-256 of what was copied. */
    static String copyHashing(InputStream in, Path file) throws IOException {
        MessageDigest digest = sha256();
        try (DigestInputStream hashing = new DigestInputStream(in, digest);
                OutputStream out = Files.newOutputStream(file)) {
            hashing.transferTo(out);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a leftover .part file is harmless and is replaced by the next download
        }
    }
}
