package dev.trainyard.api.protocol;

import dev.trainyard.api.concurrent.Ticker;
import dev.trainyard.api.jobs.JobSignals;
import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import org.jboss.logging.Logger;

/**
 * Signals the metrics streams ({@link JobSignals#METRICS_CHANNEL}, payload the job id) for the jobs whose points
 * this replica stored, at most once per job per tick. A NOTIFY in every batch's own transaction made the
 * batches' commits queue behind one another (PostgreSQL holds its notification queue lock until the commit is
 * on disk); the streams refresh on a ticker of their own anyway, so a short delay costs them nothing.
 */
@ApplicationScoped
public class MetricSignals {
    private static final Logger LOG = Logger.getLogger(MetricSignals.class);
    static final long TICK_MS = 100;

    private final AgroalDataSource dataSource;
    private final Set<Long> pending = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService ticker;

    public MetricSignals(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    void start(@Observes StartupEvent event) {
        ticker = Ticker.start("metric-signals", TICK_MS, TICK_MS, this::tick);
    }

    void stop(@Observes ShutdownEvent event) {
        if (ticker != null) {
            ticker.shutdownNow();
        }
        tick();
    }

    /** Records that points of {@code jobId} have been committed; call only after the commit. */
    public void pointsCommitted(long jobId) {
        pending.add(jobId);
    }

    /** Sends one notification per job recorded since the last call, in one statement; returns how many. */
    public int runOnce() throws SQLException {
        List<Long> jobs = new ArrayList<>();
        for (Long job : pending) {
            if (pending.remove(job)) {
                jobs.add(job);
            }
        }
        if (jobs.isEmpty()) {
            return 0;
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select pg_notify('" + JobSignals.METRICS_CHANNEL
                        + "', job::text) from unnest(cast(? as bigint[])) job")) {
            ps.setArray(1, c.createArrayOf("bigint", jobs.toArray()));
            ps.execute();
        } catch (SQLException | RuntimeException e) {
            pending.addAll(jobs);
            throw e;
        }
        return jobs.size();
    }

    private void tick() {
        try {
            runOnce();
        } catch (SQLException | RuntimeException e) {
            LOG.warnf("could not signal the metrics streams (retried next tick): %s", e.getMessage());
        }
    }
}
