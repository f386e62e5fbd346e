package dev.trainyard.scheduler;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/** Everything one scheduling cycle looks at, read in one transaction, with the cycle's {@code now}. */
public record ClusterSnapshot(
        Instant now,
        List<Pool> pools,
        List<RunnerNode> runners,
        List<Project> projects,
        List<QueuedJob> queue,
        List<RunningAttempt> running) {

    public ClusterSnapshot {
        Objects.requireNonNull(now, "now");
        pools = List.copyOf(pools);
        runners = List.copyOf(runners);
        projects = List.copyOf(projects);
        queue = List.copyOf(queue);
        running = List.copyOf(running);
    }
}
