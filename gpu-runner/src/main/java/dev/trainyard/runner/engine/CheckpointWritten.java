package dev.trainyard.runner.engine;

import java.nio.file.Path;

/** A complete, verified checkpoint on disk: the file, the step it holds, its SHA-256 and size. */
public record CheckpointWritten(Path path, long step, String sha256, long bytes) {}
