package dev.trainyard.api.jobs;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Every {@link JobsChanged} event this replica fired, for tests to look at. */
@ApplicationScoped
public class RecordedChanges {
    private final List<JobsChanged> seen = new CopyOnWriteArrayList<>();

    void record(@Observes JobsChanged change) {
        seen.add(change);
    }

    /** Whether a change named this runner (changes that wake every runner, which other tests cause, do not count). */
    public boolean anyNames(long runnerId) {
        return seen.stream().anyMatch(c -> c.runners().contains(runnerId));
    }

    public int count() {
        return seen.size();
    }

    public List<JobsChanged> since(int index) {
        return List.copyOf(seen.subList(index, seen.size()));
    }
}
