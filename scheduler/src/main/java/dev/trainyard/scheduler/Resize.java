package dev.trainyard.scheduler;

import java.util.List;

/**
 * Grow a short elastic attempt to {@code gpus} GPUs held as {@code runners} (its full new layout); the runner
 * applies it at its next checkpoint, and the extra GPUs are taken from the runners' free count now.
 */
public record Resize(long attemptId, long jobId, int fromGpus, int gpus, List<Share> runners) {
    public Resize {
        runners = List.copyOf(runners);
    }
}
