package dev.trainyard.api.protocol;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.checkpoints.CheckpointFiles;
import dev.trainyard.api.checkpoints.CheckpointIndex;
import dev.trainyard.api.checkpoints.CheckpointShards;
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

    /** Which shard of how many an upload is: 0 of 1 for a whole checkpoint. */
    public record ShardOf(int shard, int shards) {
        public static final ShardOf WHOLE = new ShardOf(0, 1);

        /** From the optional query parameters: both or neither. */
        public static ShardOf of(Integer shard, Integer shards) {
            if (shard == null && shards == null) {
                return WHOLE;
            }
            if (shard == null || shards == null) {
                throw ApiException.InvalidInput.of(shard == null ? "shard" : "shards", "is required with the other");
            }
            if (shards < 1 || shards > MAX_SHARDS) {
                throw ApiException.InvalidInput.of("shards", "must be between 1 and " + MAX_SHARDS);
            }
            if (shard < 0 || shard >= shards) {
                throw ApiException.InvalidInput.of("shard", "must be between 0 and shards - 1 (" + (shards - 1) + ")");
            }
            return new ShardOf(shard, shards);
        }

        boolean sharded() {
            return shards > 1;
        }
    }

    static final int MAX_SHARDS = 4096;

    /** Receives a checkpoint; it counts only if its SHA-256 matches the one the runner declared. */
    public CheckpointView checkpoint(
            long tokenId,
            long attemptId,
            String leaseToken,
            long step,
            String declaredSha256,
            Double evalLoss,
            InputStream body) {
        return checkpoint(tokenId, attemptId, leaseToken, step, ShardOf.WHOLE, declaredSha256, evalLoss, body);
    }

    /**
     * Receives a whole checkpoint, or one shard of a sharded one (which only the runner holding that data-parallel
     * rank of the attempt may send); it counts only if its SHA-256 matches the one the runner declared, and a
     * sharded checkpoint is complete once all of its shards have.
     */
    public CheckpointView checkpoint(
            long tokenId,
            long attemptId,
            String leaseToken,
            long step,
            ShardOf part,
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
            if (part.sharded()) {
                ShardSenders.runnerOf(c, tokenId, attemptId, part);
            }
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
                if (part.sharded()) {
                    return keepShard(c, tokenId, a, step, part, received, evalLoss, now);
                }
                String path = files.keep(received, a.jobId(), attemptId, step);
                long id = CheckpointIndex.insertComplete(
                        c, a.jobId(), attemptId, step, path, received.bytes(), received.sha256(), evalLoss, now);
                AttemptQueries.touchCheckpoint(c, attemptId, now);
                retain(c, a.jobId());
                return CheckpointView.whole(
                        id, a.jobId(), attemptId, step, received.bytes(), received.sha256(), evalLoss, now);
            });
        } catch (RuntimeException e) {
            files.discard(received);
            throw e;
        }
    }

    /**
     * Stores one verified shard under the attempt's checkpoint of that step; the last one makes it COMPLETE, and
     * only then does retention count it. The same shard sent again (a retried upload) is accepted if it has the
     * same digest and refused if not.
     */
    private CheckpointView keepShard(
            Connection c,
            long tokenId,
            FencedAttempt a,
            long step,
            ShardOf part,
            CheckpointFiles.Received received,
            Double evalLoss,
            Instant now)
            throws SQLException {
        long runnerId = ShardSenders.runnerOf(c, tokenId, a.attemptId(), part);
        String folder = CheckpointFiles.shardFolder(a.jobId(), a.attemptId(), step);
        long id = CheckpointShards.open(c, a.jobId(), a.attemptId(), step, part.shards(), folder, evalLoss, now);
        java.util.Optional<String> stored = CheckpointShards.storedSha256(c, id, part.shard());
        if (stored.isPresent()) {
            files.discard(received);
            if (!stored.get().equals(received.sha256())) {
                throw new ApiException.Conflict(
                        ProblemType.INVALID_STATE,
                        "Shard " + part.shard() + " of the checkpoint of step " + step + " is stored already, with"
                                + " SHA-256 " + stored.get() + "; it cannot be replaced");
            }
        } else {
            String path = files.keepShard(received, folder, step, part.shard(), part.shards());
            CheckpointShards.add(c, id, part.shard(), runnerId, path, received.bytes(), received.sha256(), now);
        }
        AttemptQueries.touchCheckpoint(c, a.attemptId(), now);
        if (CheckpointShards.completeIfWhole(c, id, now)) {
            retain(c, a.jobId());
        }
        return CheckpointIndex.findLive(c, id).orElseThrow().view();
    }

    /**
     * The attempt's checkpoint of a step as the platform has it (a sharded one possibly still missing shards): rank
     * 0 asks before it ends a stopped attempt, so that the others' last shards are in before the attempt is over.
     */
    public CheckpointView checkpointOfStep(long tokenId, long attemptId, String leaseToken, long step) {
        return transactions.inNew(c -> {
            FencedAttempt.checkForReport(c, tokenId, attemptId, leaseToken);
            return CheckpointIndex.ofAttemptStep(c, attemptId, step)
                    .map(CheckpointIndex.Row::view)
                    .orElseThrow(
                            () -> new ApiException.NotFound("checkpoint of step " + step + " of attempt", attemptId));
        });
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

    /**
     * The file a resuming runner downloads: a whole checkpoint's, or the named shard of a sharded one (see {@link
     * #checkpointForResume} for who may). A sharded checkpoint without a shard number is a bad request.
     */
    public CheckpointShards.StoredFile fileForResume(
            long tokenId, long checkpointId, String leaseToken, Integer shard) {
        CheckpointIndex.Row row = checkpointForResume(tokenId, checkpointId, leaseToken);
        return transactions.inNew(c -> CheckpointShards.fileOf(c, row, shard));
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
        CheckpointIndex.abandonOvertaken(c, jobId);
        CheckpointIndex.retain(c, jobId, keepLast, keepBest);
    }
}
