package dev.trainyard.api.observability;

import dev.trainyard.api.concurrent.Ticker;
import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.api.lifecycle.RunnerState;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Prometheus gauges of the platform's state: jobs by state, queue length and GPUs allocated per pool, cost
 * accrued. Read from PostgreSQL at most every few seconds, whatever the scrape rate, so every replica reports
 * the same cluster-wide figures cheaply.
 */
@ApplicationScoped
public class PlatformGauges {
    private static final Logger LOG = Logger.getLogger(PlatformGauges.class);
    private static final long MAX_AGE_MS = 5_000;
    static final List<String> STATES =
            Arrays.stream(JobState.values()).map(JobState::word).toList();

    private final AgroalDataSource dataSource;
    private final MeterRegistry registry;
    private final Map<String, Double> values = new ConcurrentHashMap<>();
    private final Map<String, Boolean> registered = new ConcurrentHashMap<>();
    private volatile long readAt;

    public PlatformGauges(AgroalDataSource dataSource, MeterRegistry registry) {
        this.dataSource = dataSource;
        this.registry = registry;
    }

    void register(@Observes StartupEvent event) {
        for (String state : STATES) {
            gauge("trainyard.jobs", "Jobs by state", "jobs.state." + state, "state", state);
        }
        gauge("trainyard.cost.accrued.usd", "USD charged to the cost ledger so far", "cost", null, null);
        // refreshed in the background too, so a pool created since start has its gauges before the next scrape
        Ticker.start("platform-gauges", 0, MAX_AGE_MS, this::refresh);
    }

    private void gauge(String name, String help, String key, String tagKey, String tagValue) {
        if (registered.putIfAbsent(key, Boolean.TRUE) != null) {
            return;
        }
        Gauge.Builder<PlatformGauges> b =
                Gauge.builder(name, this, g -> g.value(key)).description(help);
        if (tagKey != null) {
            b.tag(tagKey, tagValue);
        }
        b.register(registry);
    }

    private double value(String key) {
        if (System.currentTimeMillis() - readAt > MAX_AGE_MS) {
            refresh();
        }
        return values.getOrDefault(key, 0.0);
    }

    private synchronized void refresh() {
        if (System.currentTimeMillis() - readAt < MAX_AGE_MS / 2) {
            return;
        }
        try (Connection c = dataSource.getConnection()) {
            STATES.forEach(s -> values.put("jobs.state." + s, 0.0));
            Jdbc.query(
                    c,
                    "select state, count(*) from jobs group by state",
                    rs -> values.put("jobs.state." + rs.getString(1), (double) rs.getLong(2)));
            values.put(
                    "cost",
                    Jdbc.queryOne(c, "select coalesce(sum(amount_usd), 0) from cost_ledger", rs -> rs.getDouble(1))
                            .orElse(0.0));
            Jdbc.query(
                    c,
                    """
                    select p.name,
                           (select count(*) from jobs j where j.state = ?
                              and (j.pool_id = p.id or (j.pool_id is null and j.gpu_type = p.gpu_type))),
                           (select coalesce(sum(ar.gpus), 0) from attempt_runners ar join attempts a on a.id = ar.attempt_id
                              join runners r on r.id = ar.runner_id where a.ended_at is null and r.pool_id = p.id),
                           (select coalesce(sum(total_gpus), 0) from runners r where r.pool_id = p.id and r.state = ?)
                      from pools p""",
                    rs -> {
                        String pool = rs.getString(1);
                        values.put("queue." + pool, (double) rs.getLong(2));
                        values.put("gpus.allocated." + pool, (double) rs.getLong(3));
                        values.put("gpus.total." + pool, (double) rs.getLong(4));
                        gauge("trainyard.queue.length", "Queued jobs per pool", "queue." + pool, "pool", pool);
                        gauge(
                                "trainyard.gpus.allocated",
                                "Devices held by live attempts per pool",
                                "gpus.allocated." + pool,
                                "pool",
                                pool);
                        gauge(
                                "trainyard.gpus.capacity",
                                "Devices of active runners per pool",
                                "gpus.total." + pool,
                                "pool",
                                pool);
                        return null;
                    },
                    JobState.QUEUED.word(),
                    RunnerState.ACTIVE.word());
        } catch (SQLException | RuntimeException e) {
            LOG.debug("could not read platform gauges", e);
        }
        readAt = System.currentTimeMillis();
    }
}
