package dev.trainyard.api.streams;

import dev.trainyard.api.concurrent.Ticker;
import dev.trainyard.api.db.PgNotifications;
import dev.trainyard.api.jobs.JobsChanged;
import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Drives every open server-sent event stream of this replica. Database notifications (from any replica) mark
 * the streams dirty; a ticker refreshes dirty streams at most a few times a second, so a burst of metrics
 * costs one query per stream, not one per point. Every stream also refreshes now and then as a keep-alive.
 * Every couple of seconds the tokens behind the open streams are looked up, and the streams of a token that was
 * revoked (on any replica) are completed: a stream is as good as its token, not only at the moment it opened.
 */
@ApplicationScoped
public class LiveStreams {
    private static final Logger LOG = Logger.getLogger(LiveStreams.class);
    private static final long TICK_MS = 300;
    private static final long KEEPALIVE_MS = 15_000;
    private static final long TOKEN_CHECK_MS = 2_000;

    /** One open stream. */
    public interface Subscriber {
        /** Reads what is new and emits it; returns false once the client is gone. */
        boolean refresh(boolean keepAlive);

        /** The id of the token that opened the stream. */
        long tokenId();

        /** Ends the stream for the client (it sees the response complete). */
        void close();
    }

    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean dirty = new AtomicBoolean();
    private ScheduledExecutorService ticker;
    private long lastKeepAlive = System.currentTimeMillis();
    private long lastTokenCheck = System.currentTimeMillis();
    private final AgroalDataSource dataSource;

    public LiveStreams(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

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
        if (now - lastTokenCheck >= TOKEN_CHECK_MS) {
            lastTokenCheck = now;
            closeRevoked();
        }
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

    /** Completes every stream whose token is revoked or gone; an unreachable database closes nothing. */
    private void closeRevoked() {
        Set<Long> tokens = new HashSet<>();
        subscribers.forEach(s -> tokens.add(s.tokenId()));
        if (tokens.isEmpty()) {
            return;
        }
        Set<Long> valid;
        try {
            valid = validTokens(tokens);
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Could not check the tokens of open streams; checking again later", e);
            return;
        }
        for (Subscriber s : subscribers) {
            if (!valid.contains(s.tokenId())) {
                subscribers.remove(s);
                try {
                    s.close();
                } catch (RuntimeException e) {
                    LOG.debug("Closing the stream of a revoked token failed", e);
                }
            }
        }
    }

    private Set<Long> validTokens(Set<Long> ids) throws SQLException {
        String sql = "select id from api_tokens where id = any(?) and revoked_at is null";
        Set<Long> valid = new HashSet<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            Array array = c.createArrayOf("bigint", ids.toArray());
            ps.setArray(1, array);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    valid.add(rs.getLong(1));
                }
            }
        }
        return valid;
    }
}
