package dev.trainyard.api.protocol;

import dev.trainyard.api.checkpoints.CheckpointFiles;
import dev.trainyard.api.checkpoints.ExportFileView;
import dev.trainyard.api.checkpoints.ExportIndex;
import dev.trainyard.api.db.Transactions;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;

/**
 * The final export from runners: each file counts only if its SHA-256 matches the declared one and its attempt is
 * still current; an attempt may report SUCCEEDED only once its export is complete (see {@link #requireComplete}).
 */
@ApplicationScoped
public class ExportUploads {
    static final long MAX_EXPORT_FILE_BYTES = CheckpointUploads.MAX_CHECKPOINT_BYTES;

    private final Transactions transactions;
    private final CheckpointFiles files;
    private final InstantSource clock;

    public ExportUploads(Transactions transactions, CheckpointFiles files, InstantSource clock) {
        this.transactions = transactions;
        this.files = files;
        this.clock = clock;
    }

    /** Receives one export file of a current attempt; it replaces the job's earlier file of that name. */
    public ExportFileView upload(
            long tokenId, long attemptId, String leaseToken, String name, String declaredSha256, InputStream body) {
        if (name == null || !ExportIndex.NAMES.contains(name)) {
            throw ApiException.InvalidInput.of(
                    "name",
                    "must be one of "
                            + String.join(
                                    ", ", ExportIndex.NAMES.stream().sorted().toList()));
        }
        if (declaredSha256 == null || !declaredSha256.toLowerCase(Locale.ROOT).matches("[0-9a-f]{64}")) {
            throw ApiException.InvalidInput.of("X-Checksum-Sha256", "a hex SHA-256 of the body is required");
        }
        long jobId = transactions.inNew(
                c -> FencedAttempt.check(c, tokenId, attemptId, leaseToken).jobId());
        CheckpointFiles.Received received = files.receive(jobId, body, MAX_EXPORT_FILE_BYTES);
        if (received.bytes() == 0) {
            files.discard(received);
            throw ApiException.InvalidInput.of("body", "an export file is never empty; this upload has 0 bytes");
        }
        if (!received.sha256().equals(declaredSha256.toLowerCase(Locale.ROOT))) {
            files.discard(received);
            throw new ApiException.InvalidInput(
                    ProblemType.CHECKSUM_MISMATCH,
                    "The upload's SHA-256 is " + received.sha256() + ", not the declared " + declaredSha256
                            + "; the export file was refused");
        }
        Instant now = clock.instant();
        try {
            return transactions.inNew(c -> {
                // the row lock of the fencing check keeps the attempt current until this file is recorded
                FencedAttempt a = FencedAttempt.check(c, tokenId, attemptId, leaseToken);
                String path = files.keepExport(received, a.jobId(), name);
                ExportIndex.upsert(c, a.jobId(), attemptId, name, path, received.bytes(), received.sha256(), now);
                return new ExportFileView(name, attemptId, received.bytes(), received.sha256(), now);
            });
        } catch (RuntimeException e) {
            files.discard(received);
            throw e;
        }
    }

    /**
     * Refuses a SUCCEEDED end of an attempt that has not uploaded its export, so that a job is never SUCCEEDED
     * without weights to download. Runs in the end's transaction, after the fencing check locked the attempt.
     */
    static void requireComplete(Connection c, long attemptId) throws SQLException {
        List<String> missing = ExportIndex.missingFor(c, attemptId);
        if (!missing.isEmpty()) {
            throw new ApiException.Conflict(
                    ProblemType.INVALID_STATE,
                    "Attempt " + attemptId + " cannot end SUCCEEDED before its export is stored; missing: "
                            + String.join(", ", missing));
        }
    }
}
