package dev.trainyard.api.protocol;

import dev.trainyard.api.jobs.JobsChanged;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets long-polling heartbeats sleep until their runner's assignments may have changed. Each runner has a
 * version of its own: a committed change (from any replica) bumps the versions of the runners it names, or of
 * all runners, and wakes only their waiters, who then read their assignments again. Before, every change woke
 * every waiting heartbeat, and all but one of them read nothing new.
 */
@ApplicationScoped
public class AssignmentWaiters {
    private final Map<Long, Slot> slots = new ConcurrentHashMap<>();

    /** One runner's version and the monitor its heartbeats wait on. */
    private static final class Slot {
        private long version;
    }

    private Slot slot(long runnerId) {
        return slots.computeIfAbsent(runnerId, id -> new Slot());
    }

    /** Read before reading the runner's assignments; pass to {@link #awaitChange}. */
    public long version(long runnerId) {
        Slot s = slot(runnerId);
        synchronized (s) {
            return s.version;
        }
    }

    void onChange(@Observes JobsChanged change) {
        if (change.allRunners()) {
            slots.values().forEach(AssignmentWaiters::bump);
        } else {
            change.runners().forEach(this::signalChange);
        }
    }

    /** Wakes the heartbeats of {@code runnerId} waiting on this replica. */
    public void signalChange(long runnerId) {
        Slot s = slots.get(runnerId);
        if (s != null) {
            bump(s);
        }
    }

    private static void bump(Slot s) {
        synchronized (s) {
            s.version++;
            s.notifyAll();
        }
    }

    /** Waits until the runner's version moves past {@code seen} or the time is up. */
    public void awaitChange(long runnerId, long seen, long timeoutMs) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        Slot s = slot(runnerId);
        synchronized (s) {
            long left;
            while (s.version == seen && (left = deadline - System.currentTimeMillis()) > 0) {
                try {
                    s.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
