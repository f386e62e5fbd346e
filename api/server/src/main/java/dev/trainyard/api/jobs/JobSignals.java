package dev.trainyard.api.jobs;

import dev.trainyard.api.db.PgNotifications;
import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Tells this replica and every other one that jobs changed, once the change has committed: listeners (the
 * scheduler loop, long-polling heartbeats, event streams) never see uncommitted work, and a rolled-back change
 * says nothing. This replica hears at once, as a {@link JobsChanged} CDI event; the others through a NOTIFY sent
 * outside the transaction ({@link JobChangeNotifier}), which they turn into the same event.
 */
@ApplicationScoped
public class JobSignals {
    private static final Logger LOG = Logger.getLogger(JobSignals.class);
    public static final String CHANNEL = "trainyard_jobs";
    public static final String METRICS_CHANNEL = "trainyard_metrics";

    private final TransactionSynchronizationRegistry transactions;
    private final Event<JobsChanged> events;
    private final String origin = "api-" + UUID.randomUUID().toString().substring(0, 13);
    private final JobChangeNotifier notifier;

    public JobSignals(
            TransactionSynchronizationRegistry transactions, Event<JobsChanged> events, AgroalDataSource dataSource) {
        this.transactions = transactions;
        this.events = events;
        this.notifier = new JobChangeNotifier(dataSource, origin);
    }

    void start(@Observes StartupEvent event) {
        notifier.start();
    }

    void stop(@Observes ShutdownEvent event) {
        notifier.stop();
    }

    /** This replica's name in the payloads it sends, by which it knows its own notifications when they come back. */
    String origin() {
        return origin;
    }

    /** A job was submitted or cancelled while waiting: the scheduler should look. */
    public void jobsChanged() {
        changed(JobsChanged.queue());
    }

    /**
     * Publishes {@code change} when the current transaction commits (nothing if it rolls back), or at once when
     * called outside a transaction, that is after the change committed.
     */
    public void changed(JobsChanged change) {
        if (transactions.getTransactionStatus() == Status.STATUS_NO_TRANSACTION) {
            publish(change);
            return;
        }
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                if (status == Status.STATUS_COMMITTED) {
                    publish(change);
                }
            }
        });
    }

    private void publish(JobsChanged change) {
        notifier.add(change);
        fire(change);
    }

    void onNotification(@Observes PgNotifications.Notification n) {
        if (!CHANNEL.equals(n.channel())) {
            return;
        }
        JobsChanged.Decoded decoded = JobsChanged.decode(n.payload());
        if (!origin.equals(decoded.origin())) {
            fire(decoded.change());
        }
    }

    private void fire(JobsChanged change) {
        try {
            events.fire(change);
        } catch (RuntimeException e) {
            LOG.warn("A job change observer failed", e);
        }
    }
}
