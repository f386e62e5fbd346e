package dev.trainyard.api.scheduling;

import dev.trainyard.api.config.TrainyardConfig;
import dev.trainyard.api.jobs.JobSignals;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Runs {@link SchedulingCycle#runOnce()} on a short timer and whenever PostgreSQL reports that jobs or runners
 * changed (LISTEN/NOTIFY, so a submission on any replica wakes the leader at once). Wake-ups coalesce: at most
 * one cycle runs and one more is queued.
 */
@ApplicationScoped
public class SchedulingLoop {
    private static final Logger LOG = Logger.getLogger(SchedulingLoop.class);

    private final SchedulingCycle cycle;
    private final TrainyardConfig config;
    private final AgroalDataSource dataSource;
    private final Timer cycleTimer;
    private final AtomicBoolean wakeQueued = new AtomicBoolean();
    private final AtomicBoolean running = new AtomicBoolean();
    private ScheduledExecutorService executor;
    private Thread listener;

    public SchedulingLoop(SchedulingCycle cycle, TrainyardConfig config, AgroalDataSource dataSource,
            MeterRegistry registry) {
        this.cycle = cycle;
        this.config = config;
        this.dataSource = dataSource;
        this.cycleTimer = Timer.builder("trainyard.scheduler.cycle").description("Time of one scheduling cycle")
                .publishPercentiles(0.5, 0.99).register(registry);
    }

    void start(@Observes StartupEvent event) {
        if (!config.scheduler().enabled()) {
            LOG.info("Scheduler loop disabled by configuration");
            return;
        }
        running.set(true);
        executor = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "scheduler-loop"));
        long interval = config.scheduler().interval().toMillis();
        executor.scheduleWithFixedDelay(this::wake, interval, interval, TimeUnit.MILLISECONDS);
        listener = new Thread(this::listen, "scheduler-listen");
        listener.setDaemon(true);
        listener.start();
    }

    void stop(@Observes ShutdownEvent event) {
        running.set(false);
        if (executor != null) {
            executor.shutdownNow();
        }
        if (listener != null) {
            listener.interrupt();
        }
    }

    /** Asks for a cycle soon; several calls before it starts lead to one cycle. */
    public void wake() {
        if (executor != null && wakeQueued.compareAndSet(false, true)) {
            executor.execute(this::cycleSafely);
        }
    }

    private void cycleSafely() {
        wakeQueued.set(false);
        try {
            cycleTimer.record(cycle::runOnce);
        } catch (RuntimeException e) {
            LOG.warn("Scheduling cycle failed; retrying on the next tick", e);
        }
    }

    private void listen() {
        while (running.get()) {
            try (Connection c = dataSource.getConnection()) {
                try (Statement s = c.createStatement()) {
                    s.execute("listen " + JobSignals.CHANNEL);
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running.get()) {
                    PGNotification[] notes = pg.getNotifications(1000);
                    if (notes != null && notes.length > 0) {
                        wake();
                    }
                }
            } catch (SQLException e) {
                if (running.get()) {
                    LOG.debug("LISTEN connection lost; reconnecting", e);
                    sleepQuietly();
                }
            }
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
