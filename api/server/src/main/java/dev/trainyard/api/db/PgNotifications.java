package dev.trainyard.api.db;

import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Listens to PostgreSQL NOTIFY channels on one dedicated connection and fires each notification as a CDI
 * event, so that every replica reacts to changes made by any replica (scheduler wake-ups, long polls, SSE).
 */
@ApplicationScoped
public class PgNotifications {
    private static final Logger LOG = Logger.getLogger(PgNotifications.class);
    public static final List<String> CHANNELS = List.of("trainyard_jobs", "trainyard_metrics");

    /** One notification from the database. */
    public record Notification(String channel, String payload) {}

    private final AgroalDataSource dataSource;
    private final Event<Notification> events;
    private final AtomicBoolean running = new AtomicBoolean();
    private Thread thread;

    public PgNotifications(AgroalDataSource dataSource, Event<Notification> events) {
        this.dataSource = dataSource;
        this.events = events;
    }

    void start(@Observes StartupEvent event) {
        running.set(true);
        thread = new Thread(this::listen, "pg-notifications");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) {
        running.set(false);
        if (thread != null) {
            thread.interrupt();
        }
    }

    private void listen() {
        while (running.get()) {
            try (Connection c = dataSource.getConnection()) {
                try (Statement s = c.createStatement()) {
                    for (String channel : CHANNELS) {
                        s.execute("listen " + channel);
                    }
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running.get()) {
                    PGNotification[] notes = pg.getNotifications(500);
                    if (notes != null) {
                        for (PGNotification n : notes) {
                            fire(new Notification(n.getName(), n.getParameter()));
                        }
                    }
                }
            } catch (SQLException e) {
                if (running.get()) {
                    LOG.debug("LISTEN connection lost; reconnecting", e);
                    pause();
                }
            }
        }
    }

    private void fire(Notification n) {
        try {
            events.fire(n);
        } catch (RuntimeException e) {
            LOG.warn("A notification observer failed", e);
        }
    }

    private static void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
