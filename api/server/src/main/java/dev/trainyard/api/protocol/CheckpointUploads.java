package dev.trainyard.api.protocol;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.checkpoints.CheckpointFiles;
import dev.trainyard.api.checkpoints.CheckpointIndex;
import dev.trainyard.api.checkpoints.CheckpointView;
import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.db.Transactions;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.spec.JobSpec;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Locale;
import java.util.UUID;

/**
 * Checkpoints to and from runners: an upload counts only if its SHA-256 matches the declared one and its attempt
 * is still current, and then the job's retention policy runs; a resuming runner downloads one of its own attempt's
 * job, showing that attempt's lease token.
 */
@ApplicationScoped
public class CheckpointUploads {
    static final long MAX_CHECKPOINT_BYTES = 64L << 30;

    private final Transactions transactions;
    private final CheckpointFiles files;
    private final ObjectMapper json;
    private final InstantSource clock;

    public CheckpointUploads(Transactions transactions, CheckpointFiles files, ObjectMapper json, InstantSource clock) {
        this.transactions = transactions;
        this.files = files;
        this.json = json;
        this.clock = clock;
    }

    /** Receives a checkpoint; it counts only if its SHA-256 matches the one the runner declared. */
    public CheckpointView checkpoint(
            long tokenId,
            long attemptId,
            String leaseToken,
            long step,
            String declaredSha256,
            Double evalLoss,
            InputStream body) {
        if (declaredSha256 == null || !declaredSha256.toLowerCase(Locale.ROOT).matches("[0-9a-f]{64}")) {
            throw ApiException.InvalidInput.of("X-Checksum-Sha256", "a hex SHA-256 of the body is required");
        }
        if (step < 0) {
            throw ApiException.InvalidInput.of("step", "must not be negative");
        }
        if (evalLoss != null && !Double.isFinite(evalLoss)) {
            throw ApiException.InvalidInput.of("evalLoss", "must be a finite number");
        }
        FencedAttempt before = transactions.inNew(c -> {
            FencedAttempt fenced = FencedAttempt.check(c, tokenId, attemptId, leaseToken);
            ProtocolBodies.checkStep("step", step, AttemptQueries.totalSteps(c, fenced.jobId()));
            return fenced;
        });
        CheckpointFiles.Received received = files.receive(before.jobId(), body, MAX_CHECKPOINT_BYTES);
        if (received.bytes() == 0) {
            files.discard(received);
            throw ApiException.InvalidInput.of("body", "a checkpoint is never empty; this upload has 0 bytes");
        }
        if (!received.sha256().equals(declaredSha256.toLowerCase(Locale.ROOT))) {
            files.discard(received);
            throw new ApiException.InvalidInput(
                    ProblemType.CHECKSUM_MISMATCH,
                    "The upload's SHA-256 is " + received.sha256() + ", not the declared " + declaredSha256
                            + "; the checkpoint was refused");
        }
        Instant now = clock.instant();
        try {
            return transactions.inNew(c -> {
                FencedAttempt a = FencedAttempt.check(c, tokenId, attemptId, leaseToken);
                String path = files.keep(received, a.jobId(), attemptId, step);
                long id = CheckpointIndex.insertComplete(
                        c, a.jobId(), attemptId, step, path, received.bytes(), received.sha256(), evalLoss, now);
                AttemptQueries.touchCheckpoint(c, attemptId, now);
                retain(c, a.jobId());
                return new CheckpointView(
                        id, a.jobId(), attemptId, step, received.bytes(), received.sha256(), evalLoss, now);
            });
        } catch (RuntimeException e) {
            files.discard(received);
            throw e;
        }
    }

    /**
     * A checkpoint a runner may resume from: one of the job of a current attempt that holds a rank on the calling
     * token's runner and whose lease token the runner shows. Another job's checkpoint is answered as not found.
     */
    public CheckpointIndex.Row checkpointForResume(long tokenId, long checkpointId, String leaseToken) {
        UUID lease = FencedAttempt.parse(leaseToken);
        return transactions.inNew(c -> {
            long attemptId = Jdbc.queryOne(
                            c, "select id from attempts where lease_token = ?", rs -> rs.getLong(1), lease)
                    .orElseThrow(() -> new ApiException.Forbidden("X-Lease-Token is no attempt's lease token"));
            FencedAttempt a = FencedAttempt.checkForReport(c, tokenId, attemptId, leaseToken);
            return CheckpointIndex.findAny(c, checkpointId)
                    .filter(row -> row.view().jobId() == a.jobId())
                    .orElseThrow(() -> new ApiException.NotFound("checkpoint", checkpointId));
        });
    }

    /** Applies the job's keepLast / keepBest policy now that one more checkpoint is complete. */
    private void retain(Connection c, long jobId) throws SQLException {
        JobSpec spec = Jdbc.queryOne(
                        c, "select spec from jobs where id = ?", rs -> StoredSpecs.read(json, rs.getString(1)), jobId)
                .orElseThrow();
        int keepLast = spec.checkpoint() == null || spec.checkpoint().keepLast() == null
                ? 3
                : spec.checkpoint().keepLast();
        boolean keepBest = spec.checkpoint() != null
                && Boolean.TRUE.equals(spec.checkpoint().keepBest());
        CheckpointIndex.retain(c, jobId, keepLast, keepBest);
    }
}
