package dev.trainyard.runner.engine;

import java.nio.file.Path;

/**
 * A complete, verified checkpoint on disk: the file that holds it (what a run resumes from and what the
 * agent uploads), the step it holds, its SHA-256 and size, and the eval loss of the last evaluation at or
 * before that step (NaN when none ran yet).
 */
public record CheckpointWritten(Path path, long step, String sha256, long bytes, double evalLoss) {}
