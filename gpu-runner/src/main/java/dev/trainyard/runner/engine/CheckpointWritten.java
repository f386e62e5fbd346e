package dev.trainyard.runner.engine;

import java.nio.file.Path;

/**
 * A complete, verified checkpoint file on disk: the file that holds it (what a run resumes from and what the
 * agent uploads), the step it holds, its SHA-256 and size, the eval loss of the last evaluation at or before that
 * step (NaN when none ran yet), and which shard of how many it is (0 of 1 for a whole checkpoint; a sharded
 * checkpoint is complete only with all of its shards, each written by its own process).
 */
public record CheckpointWritten(
        Path path, long step, String sha256, long bytes, double evalLoss, int shard, int shards) {

    /** A whole checkpoint: one file. */
    public CheckpointWritten(Path path, long step, String sha256, long bytes, double evalLoss) {
        this(path, step, sha256, bytes, evalLoss, 0, 1);
    }

    public boolean sharded() {
        return shards > 1;
    }
}
