package dev.trainyard.api.jobs;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * Tells the other API replicas about committed changes with one NOTIFY per send, outside every business
 * transaction. A NOTIFY inside those transactions made their commits queue one by one behind PostgreSQL's
 * notification lock, each waiting for its own WAL flush. Changes committed while a send is under way merge into
 * the next one, so a burst costs a few NOTIFYs, not one per commit.
 */
public final class JobChangeNotifier {
    private static final Logger LOG = Logger.getLogger(JobChangeNotifier.class);
    private static final long RETRY_MS = 1000;

    private final DataSource dataSource;
    private final String origin;
    private final AtomicReference<JobsChanged> pending = new AtomicReference<>();
    private final Object monitor = new Object();
    private volatile boolean running;
    private Thread thread;

    public JobChangeNotifier(DataSource dataSource, String origin) {
        this.dataSource = dataSource;
        this.origin = origin;
    }

    public void start() {
        running = true;
        thread = new Thread(this::loop, "job-change-notifier");
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops the thread, then sends what is still pending. */
    public void stop() {
        running = false;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            runOnce();
        } catch (SQLException | RuntimeException e) {
            LOG.debugf("last change notification not sent: %s", e.getMessage());
        }
    }

    /** Queues a committed change for the other replicas; returns at once. */
    public void add(JobsChanged change) {
        if (change.isEmpty()) {
            return;
        }
        pending.accumulateAndGet(change, (a, b) -> a == null ? b : a.merge(b));
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    /**
     * Sends everything queued so far as one NOTIFY; returns false when nothing was queued. On failure the change
     * is queued again, merged with whatever came meanwhile.
     */
    public boolean runOnce() throws SQLException {
        JobsChanged change = pending.getAndSet(null);
        if (change == null) {
            return false;
        }
        // the notification is a hint, lost in a crash anyway: its commit need not wait for the WAL flush
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("select set_config('synchronous_commit', 'off', true), pg_notify(?, ?)")) {
            ps.setString(1, JobSignals.CHANNEL);
            ps.setString(2, change.encode(origin));
            ps.execute();
        } catch (SQLException | RuntimeException e) {
            pending.accumulateAndGet(change, (a, b) -> a == null ? b : a.merge(b));
            throw e;
        }
        return true;
    }

    private void loop() {
        while (running) {
            try {
                awaitPending();
                runOnce();
            } catch (InterruptedException e) {
                return;
            } catch (SQLException | RuntimeException e) {
                LOG.warnf("could not notify the other replicas (retried in %d ms): %s", RETRY_MS, e.getMessage());
                sleepQuietly(RETRY_MS);
            }
        }
    }

    private void awaitPending() throws InterruptedException {
        synchronized (monitor) {
            while (running && pending.get() == null) {
                monitor.wait(1000);
            }
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
