package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** When checkpoints are written and which are kept. */
@Schema(name = "CheckpointPolicy")
public record CheckpointPolicy(
        @Schema(
                description = "Write a checkpoint every N steps (default steps / 4)",
                minimum = "1",
                maximum = "2147483647")
        Integer everySteps,

        @Schema(
                description = "Keep the last N complete checkpoints (default " + SpecDefaults.KEEP_LAST + ")",
                minimum = "1",
                maximum = "1000")
        Integer keepLast,

        @Schema(description = "Also keep the checkpoint with the best eval loss")
        Boolean keepBest) {}
