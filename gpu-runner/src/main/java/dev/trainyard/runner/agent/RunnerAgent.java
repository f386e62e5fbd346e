package dev.trainyard.runner.agent;

import dev.trainyard.client.ApiException;
import dev.trainyard.client.model.Assignment;
import dev.trainyard.client.model.AttemptEnd;
import dev.trainyard.client.model.Device;
import dev.trainyard.client.model.Heartbeat;
import dev.trainyard.client.model.HeartbeatAnswer;
import dev.trainyard.client.model.RegisterRunner;
import dev.trainyard.client.model.RunnerRegistration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The runner node's loop: register, then heartbeat (long-polling while idle). Each answer is the runner's
 * desired state: new assignments are started, stops are passed to their runs, and runs the API no longer
 * lists (fenced or ended elsewhere) are dropped. When the API is unreachable, running attempts keep training
 * and their reports are buffered; when it says this runner was lost, the agent registers again.
 */
public final class RunnerAgent {
    private static final Logger LOG = Logger.getLogger(RunnerAgent.class.getName());

    /** Where and as what the agent runs. */
    public record Settings(
            String apiUrl,
            String token,
            String name,
            String host,
            String pool,
            List<Device> devices,
            Path workDir,
            int threadsPerStage,
            int metricsPort,
            Duration dataParallelTimeout) {}

    private final Settings settings;
    private final ApiSession session;
    private final Map<Long, AttemptRun> runs = new ConcurrentHashMap<>();
    private final Set<Long> finished = ConcurrentHashMap.newKeySet();
    private final RunnerMetrics metrics;
    private volatile boolean stopping;
    private volatile boolean leaving;
    private volatile long runnerId;
    private long intervalMs = 1_000;
    private long heartbeatTimeoutMs = 30_000;

    public RunnerAgent(Settings settings) {
        this.settings = settings;
        this.session = new ApiSession(settings.apiUrl(), settings.token());
        this.metrics = new RunnerMetrics(settings.name());
    }

    /** Runs until {@link #stop()}; returns the process exit code. */
    public int run() {
        try {
            metrics.listen(settings.metricsPort());
        } catch (java.io.IOException e) {
            LOG.warning("cannot serve metrics on port " + settings.metricsPort() + ": " + e.getMessage());
        }
        while (!stopping) {
            if (leaving) {
                // leave() speaks for the runner now; registering again or polling for work would undo it
                ApiSession.sleep(100);
                continue;
            }
            try {
                if (runnerId == 0) {
                    register();
                }
                HeartbeatAnswer answer = session.api()
                        .heartbeat(new Heartbeat()
                                .runnerId(runnerId)
                                .waitMs(runs.isEmpty() ? Math.min(10_000L, heartbeatTimeoutMs / 4) : 0L));
                reconcile(answer.getAssignments());
                if (!runs.isEmpty()) {
                    ApiSession.sleep(Math.min(intervalMs, 1_000));
                }
            } catch (ApiException e) {
                if (e.getCode() == 409) {
                    LOG.warning("the API no longer knows this runner as live; registering again");
                    runnerId = 0;
                } else if (e.getCode() == 401 || e.getCode() == 403) {
                    LOG.severe("the API refused the runner token: " + e.getResponseBody());
                    return 3;
                } else {
                    LOG.fine("API unreachable (" + e.getCode() + "); training goes on, retrying");
                    ApiSession.sleep(1_000);
                }
            }
        }
        metrics.close();
        return 0;
    }

    public void stop() {
        stopping = true;
    }

    /**
     * Stops on purpose (SIGTERM, Ctrl-C): tells the API the runner is leaving, so that each running attempt is
     * asked to checkpoint and stop and its job resumes elsewhere without using a restart, then waits until every
     * attempt has uploaded its checkpoint and reported its end and the API has the runner OFFLINE, or until
     * {@code within} has passed. The agent stops either way.
     */
    public void leave(Duration within) {
        leaving = true;
        long id = runnerId;
        long deadline = System.nanoTime() + within.toNanos();
        try {
            while (id != 0 && System.nanoTime() < deadline) {
                HeartbeatAnswer answer = session.api()
                        .heartbeat(new Heartbeat().runnerId(id).waitMs(0L).leaving(true));
                if ("OFFLINE".equals(answer.getRunnerState())) {
                    LOG.info("left the platform: runner " + id + " is offline");
                    break;
                }
                for (Assignment a : answer.getAssignments()) {
                    AttemptRun run = runs.get(a.getAttemptId());
                    if (run != null) {
                        run.update(a);
                    } else if (!finished.contains(a.getAttemptId())) {
                        endUnstarted(a);
                    }
                }
                ApiSession.sleep(250);
            }
        } catch (ApiException e) {
            LOG.warning("could not tell the API that the runner is leaving (" + e.getCode() + ")");
        } finally {
            stopping = true;
        }
    }

    /** An assignment that arrived as the runner began leaving never started here: it has nothing to save. */
    private void endUnstarted(Assignment a) throws ApiException {
        finished.add(a.getAttemptId());
        if (a.getRank() != 0) {
            return;
        }
        session.api()
                .endAttempt(
                        a.getAttemptId(),
                        new AttemptEnd()
                                .leaseToken(a.getLeaseToken())
                                .outcome("STOPPED")
                                .message("the runner stopped before starting it"));
    }

    private void register() {
        RunnerRegistration r = ApiSession.withRetries(
                () -> session.api()
                        .registerRunner(new RegisterRunner()
                                .name(settings.name())
                                .host(settings.host())
                                .pool(settings.pool())
                                .devices(settings.devices())),
                Duration.ofDays(365));
        runnerId = r.getRunnerId();
        intervalMs = Math.max(200, r.getHeartbeatIntervalMs());
        heartbeatTimeoutMs = r.getHeartbeatTimeoutMs();
        LOG.info("registered as runner " + runnerId + " in pool " + settings.pool() + " with "
                + settings.devices().size() + " device(s)");
    }

    /**
     * Drops runs the API no longer lists, then starts new assignments, but only once no dropped run is still
     * unwinding: a dropped run gives up within moments (even a wait on a hung data-parallel peer), and until
     * then its devices are not free. A postponed assignment stays listed and starts on a later heartbeat.
     */
    private void reconcile(List<Assignment> assignments) {
        Set<Long> listed = new HashSet<>();
        assignments.forEach(a -> listed.add(a.getAttemptId()));
        for (AttemptRun run : runs.values()) {
            if (!listed.contains(run.attemptId()) && !run.ended()) {
                LOG.warning("attempt " + run.attemptId() + " is no longer assigned here; dropping it");
                run.drop();
            }
        }
        boolean unwinding = runs.values().stream().anyMatch(AttemptRun::dropped);
        for (Assignment a : assignments) {
            AttemptRun run = runs.get(a.getAttemptId());
            if (run != null) {
                run.update(a);
            } else if (!finished.contains(a.getAttemptId()) && !unwinding && !leaving) {
                start(a);
            }
        }
    }

    private void start(Assignment a) {
        // attempt ids restart with every database, so the lease token makes the folder unique on a shared disk
        Path dir = settings.workDir()
                .resolve("attempt-" + a.getAttemptId() + "-" + a.getLeaseToken().substring(0, 8));
        // a dead peer's runner is judged lost within the heartbeat timeout; the rescuer then ends the attempt
        Duration peerLossGrace = Duration.ofMillis(heartbeatTimeoutMs + 5_000);
        AttemptRun run = new AttemptRun(session, a, dir, settings, peerLossGrace, metrics);
        runs.put(a.getAttemptId(), run);
        Thread t = new Thread(
                () -> {
                    try {
                        run.run();
                    } finally {
                        runs.remove(a.getAttemptId());
                        finished.add(a.getAttemptId());
                    }
                },
                "attempt-" + a.getAttemptId());
        t.start();
        LOG.info("started attempt " + a.getAttemptId() + " of job " + a.getJobId()
                + (a.getWorldSize() > 1 ? " as rank " + a.getRank() + " of " + a.getWorldSize() : ""));
    }
}
