package dev.trainyard.api.scheduling;

import dev.trainyard.api.config.TrainyardConfig;
import dev.trainyard.api.jobs.JobSignals;
import dev.trainyard.api.jobs.JobsChanged;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Runs {@link LeaderCycle#runOnce()} on a short timer and whenever a committed change asks for it
 * ({@link JobsChanged#schedule()}, from this replica in-process or from another through {@link JobSignals}, so a
 * submission on any replica wakes the leader at once). Wake-ups coalesce: at most one cycle runs and one more is
 * queued, so a burst of submissions costs a few cycles, not one each.
 */
@ApplicationScoped
public class SchedulingLoop {
    private static final Logger LOG = Logger.getLogger(SchedulingLoop.class);

    private final LeaderCycle cycle;
    private final TrainyardConfig config;
    private final Timer cycleTimer;
    private final AtomicBoolean wakeQueued = new AtomicBoolean();
    private final AtomicBoolean running = new AtomicBoolean();
    private ScheduledExecutorService executor;

    public SchedulingLoop(LeaderCycle cycle, TrainyardConfig config, MeterRegistry registry) {
        this.cycle = cycle;
        this.config = config;
        this.cycleTimer = Timer.builder("trainyard.scheduler.cycle")
                .description("Time of one scheduling cycle")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
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
    }

    void stop(@Observes ShutdownEvent event) {
        running.set(false);
        if (executor != null) {
            executor.shutdownNow();
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

    void onChange(@Observes JobsChanged change) {
        if (change.schedule()) {
            wake();
        }
    }
}
