package dev.trainyard.api.protocol;

import dev.trainyard.api.db.PgNotifications;
import dev.trainyard.api.jobs.JobSignals;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Lets long-polling heartbeats sleep until something changed: every NOTIFY on the jobs channel (from any
 * replica) bumps a version and wakes the waiters, who then read their assignments again.
 */
@ApplicationScoped
public class AssignmentWaiters {
    private final Object monitor = new Object();
    private long version;

    public long version() {
        synchronized (monitor) {
            return version;
        }
    }

    void onNotification(@Observes PgNotifications.Notification n) {
        if (JobSignals.CHANNEL.equals(n.channel())) {
            signalChange();
        }
    }

    public void signalChange() {
        synchronized (monitor) {
            version++;
            monitor.notifyAll();
        }
    }

    /** Waits until the version moves past {@code seen} or the time is up. */
    public void awaitChange(long seen, long timeoutMs) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        synchronized (monitor) {
            long left;
            while (version == seen && (left = deadline - System.currentTimeMillis()) > 0) {
                try {
                    monitor.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
