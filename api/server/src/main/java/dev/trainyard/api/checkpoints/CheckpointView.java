package dev.trainyard.api.checkpoints;

import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A checkpoint of a job: whole (one file), or sharded (one file per data-parallel process), complete once every
 * shard has arrived verified. Only complete checkpoints are listed and resumed from.
 */
@Schema(name = "Checkpoint")
public record CheckpointView(
        @Schema(required = true) long id,
        @Schema(required = true) long jobId,
        @Schema(required = true) long attemptId,
        @Schema(required = true) long step,

        @Schema(required = true, description = "Bytes of the file, or of the shards received so far")
        long sizeBytes,

        @Schema(
                description = "SHA-256 of the file; of a sharded checkpoint, of its shard list (a line"
                        + " \"<shard> <sha256>\" per shard); absent until complete")
        String sha256,

        Double evalLoss,
        @Schema(required = true) Instant createdAt,

        @Schema(required = true, description = "How many shard files make it whole: 1 for a whole checkpoint")
        int shardCount,

        @Schema(required = true, description = "Whether every shard has arrived, verified")
        boolean complete,

        @Schema(required = true, description = "A sharded checkpoint's shards received so far; empty for a whole one")
        List<CheckpointShardView> shards) {

    /** A whole checkpoint: one verified file. */
    public static CheckpointView whole(
            long id,
            long jobId,
            long attemptId,
            long step,
            long sizeBytes,
            String sha256,
            Double evalLoss,
            Instant at) {
        return new CheckpointView(id, jobId, attemptId, step, sizeBytes, sha256, evalLoss, at, 1, true, List.of());
    }

    public boolean sharded() {
        return shardCount > 1;
    }
}
