package dev.trainyard.api.checkpoints;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** One data-parallel process's verified shard of a sharded checkpoint. */
@Schema(name = "CheckpointShard")
public record CheckpointShardView(
        @Schema(required = true, description = "The shard's number: the data-parallel rank that wrote it")
        int shard,

        @Schema(required = true) long sizeBytes,
        @Schema(required = true) String sha256) {}
