package dev.trainyard.api.streams;

import dev.trainyard.api.concurrent.Ticker;
import dev.trainyard.api.db.PgNotifications;
import dev.trainyard.api.jobs.JobsChanged;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Drives every open server-sent event stream of this replica. Database notifications (from any replica) mark
 * the streams dirty; a ticker refreshes dirty streams at most a few times a second, so a burst of metrics
 * costs one query per stream, not one per point. Every stream also refreshes now and then as a keep-alive.
 */
@ApplicationScoped
public class LiveStreams {
    private static final Logger LOG = Logger.getLogger(LiveStreams.class);
    private static final long TICK_MS = 300;
    private static final long KEEPALIVE_MS = 15_000;

    /** One open stream. */
    public interface Subscriber {
        /** Reads what is new and emits it; returns false once the client is gone. */
        boolean refresh(boolean keepAlive);
    }

    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean dirty = new AtomicBoolean();
    private ScheduledExecutorService ticker;
    private long lastKeepAlive = System.currentTimeMillis();

    void start(@Observes StartupEvent event) {
        ticker = Ticker.start("sse-ticker", TICK_MS, TICK_MS, this::tick);
    }

    void stop(@Observes ShutdownEvent event) {
        if (ticker != null) {
            ticker.shutdownNow();
        }
    }

    void onNotification(@Observes PgNotifications.Notification n) {
        dirty.set(true);
    }

    /** Job changes as they commit: on this replica at once, without waiting for its own NOTIFY to come back. */
    void onChange(@Observes JobsChanged change) {
        dirty.set(true);
    }

    public void add(Subscriber s) {
        subscribers.add(s);
        dirty.set(true);
    }

    public void remove(Subscriber s) {
        subscribers.remove(s);
    }

    private void tick() {
        long now = System.currentTimeMillis();
        boolean keepAlive = now - lastKeepAlive > KEEPALIVE_MS;
        if (!dirty.getAndSet(false) && !keepAlive) {
            return;
        }
        if (keepAlive) {
            lastKeepAlive = now;
        }
        for (Subscriber s : subscribers) {
            try {
                if (!s.refresh(keepAlive)) {
                    subscribers.remove(s);
                }
            } catch (RuntimeException e) {
                LOG.debug("Stream refresh failed; closing it", e);
                subscribers.remove(s);
            }
        }
    }
}
