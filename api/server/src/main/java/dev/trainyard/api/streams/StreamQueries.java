package dev.trainyard.api.streams;

import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.db.Transactions;
import dev.trainyard.api.jobs.DivergenceView;
import dev.trainyard.api.jobs.JobDetailViews;
import dev.trainyard.api.jobs.JobEventView;
import dev.trainyard.api.jobs.JobRepository;
import dev.trainyard.api.jobs.JobView;
import dev.trainyard.api.jobs.JobViews;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.api.persistence.JobEntity;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The reads behind the live streams: what changed since a stream's last look. */
@ApplicationScoped
public class StreamQueries {
    private static final int MAX_POINTS = 5_000;
    /** How many job events a resumed platform stream may have missed and still catch up on; beyond, it reloads. */
    static final long RESUME_WINDOW = 10_000;
    /** Job events read per query: the look-back window plus a good batch of new ones. */
    private static final int READ_LIMIT = 2_000;

    private final Transactions transactions;
    private final JobRepository jobs;
    private final JobViews views;

    public StreamQueries(Transactions transactions, JobRepository jobs, JobViews views) {
        this.transactions = transactions;
        this.jobs = jobs;
        this.views = views;
    }

    /** New data of one job; {@code job} is null when the job did not change. */
    public record JobUpdate(
            JobView job,
            long version,
            List<JobEventView> events,
            Map<String, List<JobDetailViews.Point>> metrics,
            List<JobDetailViews.LogLine> logs) {}

    /** Progress of one running job. */
    @Schema(name = "JobProgress")
    public record Progress(long jobId, long step, long totalSteps, BigDecimal accruedUsd) {}

    /** A job event a platform stream has not seen yet. */
    /** The columns {@link #eventView} reads, in its order. */
    private static final String EVENT_COLUMNS =
            "id, job_id, at, from_state, to_state, reason, message, attempt_id, divergence_step, divergence_loss";

    /** One row of {@code job_events} as clients read it, the same on both streams and in the events list. */
    private static JobEventView eventView(java.sql.ResultSet rs) throws java.sql.SQLException {
        double loss = rs.getDouble(10);
        Double divergenceLoss = rs.wasNull() ? null : loss;
        return new JobEventView(
                rs.getLong(1),
                rs.getLong(2),
                Jdbc.instant(rs, 3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6),
                rs.getString(7),
                Jdbc.longOrNull(rs, 8),
                DivergenceView.of(Jdbc.longOrNull(rs, 9), divergenceLoss));
    }

    /** A new row of {@code job_events}: one state transition of one job. */
    record NewEvent(long id, long jobId, JobEventView event) {}

    /** New data for the platform-wide stream: new events in id order, and the changed jobs the caller may see. */
    record PlatformUpdate(List<NewEvent> events, Map<Long, JobView> jobs, List<Progress> progress, boolean more) {}

    /** What is new for a job stream, or null when the job is gone or no longer visible. */
    JobUpdate jobUpdate(Caller caller, JobPosition position) {
        long jobId = position.jobId();
        long knownVersion = position.version();
        long afterEvent = position.eventId();
        Map<String, Long> afterSteps = position.steps();
        long afterLog = position.logId();
        return transactions.inNew(c -> {
            JobEntity job = jobs.find(jobId)
                    .filter(j -> caller.canAccessProject(j.projectId))
                    .orElse(null);
            if (job == null) {
                return null;
            }
            List<JobEventView> events = Jdbc.query(
                    c,
                    "select " + EVENT_COLUMNS + " from job_events where job_id = ? and id > ? order by id",
                    StreamQueries::eventView,
                    jobId,
                    afterEvent);
            // one cursor per metric name: an eval point reported after the same step's loss is still new
            long from = afterSteps.isEmpty() ? -1 : java.util.Collections.min(afterSteps.values());
            Map<String, List<JobDetailViews.Point>> metrics = new LinkedHashMap<>();
            Jdbc.query(
                    c,
                    """
                    select name, step, value from metric_points where job_id = ? and step > ?
                     order by step, name limit ?""",
                    rs -> {
                        String name = rs.getString(1);
                        long step = rs.getLong(2);
                        if (step > afterSteps.getOrDefault(name, from)) {
                            metrics.computeIfAbsent(name, k -> new ArrayList<>())
                                    .add(new JobDetailViews.Point(step, rs.getDouble(3)));
                        }
                        return null;
                    },
                    jobId,
                    from,
                    MAX_POINTS);
            if (!afterSteps.isEmpty()) {
                // a name that first appears late (eval_loss at step 10) may have points below every cursor
                Jdbc.query(
                        c,
                        """
                        select name, step, value from metric_points where job_id = ? and step <= ? and name <> all(?)
                         order by step, name limit ?""",
                        rs -> metrics.computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
                                .add(new JobDetailViews.Point(rs.getLong(2), rs.getDouble(3))),
                        jobId,
                        from,
                        c.createArrayOf("text", afterSteps.keySet().toArray()),
                        MAX_POINTS);
                metrics.values()
                        .forEach(points -> points.sort(java.util.Comparator.comparingLong(JobDetailViews.Point::step)));
            }
            List<JobDetailViews.LogLine> logs = Jdbc.query(
                    c,
                    """
                    select id, attempt_id, at, line from job_logs where job_id = ? and id > ? order by id limit 1000""",
                    rs -> new JobDetailViews.LogLine(
                            rs.getLong(1), rs.getLong(2), Jdbc.instant(rs, 3), rs.getString(4)),
                    jobId,
                    afterLog);
            boolean changed = job.version != knownVersion || !events.isEmpty() || !metrics.isEmpty();
            return new JobUpdate(changed ? views.view(job) : null, job.version, events, metrics, logs);
        });
    }

    /**
     * Checks that a resumed job stream's position is one this job's stream could have reached; an id from
     * another installation, or one made up, is a 400 rather than a stream that silently skips data.
     */
    void checkReached(JobPosition position) {
        transactions.inNew(c -> {
            long version = jobs.find(position.jobId()).map(j -> j.version).orElse(0L);
            long event = Jdbc.queryOne(
                            c,
                            "select coalesce(max(id), 0) from job_events where job_id = ?",
                            rs -> rs.getLong(1),
                            position.jobId())
                    .orElse(0L);
            long log = Jdbc.queryOne(
                            c,
                            "select coalesce(max(id), 0) from job_logs where job_id = ?",
                            rs -> rs.getLong(1),
                            position.jobId())
                    .orElse(0L);
            if (position.version() > version || position.eventId() > event || position.logId() > log) {
                throw JobPosition.invalid("is ahead of this job's stream");
            }
            return null;
        });
    }

    /** A cursor at the current end of {@code job_events}: a stream that takes it sees every later change. */
    EventCursor cursorNow() {
        return transactions.inNew(c -> {
            long highest = Jdbc.queryOne(c, "select coalesce(max(id), 0) from job_events", rs -> rs.getLong(1))
                    .orElse(0L);
            List<Long> recent = Jdbc.query(
                    c, "select id from job_events where id > ?", rs -> rs.getLong(1), highest - EventCursor.LOOKBACK);
            return new EventCursor(highest, recent);
        });
    }

    /**
     * Where a platform stream resumed from {@code cursor} starts: there, when at most {@link #RESUME_WINDOW}
     * events happened since; otherwise (or for an id ahead of every event, from another installation) empty,
     * and the stream starts now and tells its client to reload.
     */
    Optional<EventCursor> resumable(EventCursor cursor) {
        long highest = transactions.inNew(
                c -> Jdbc.queryOne(c, "select coalesce(max(id), 0) from job_events", rs -> rs.getLong(1))
                        .orElse(0L));
        boolean within = cursor.highest() <= highest && highest - cursor.highest() <= RESUME_WINDOW;
        return within ? Optional.of(cursor) : Optional.empty();
    }

    /**
     * Events the cursor has not seen, in id order (without moving it), the jobs they changed that the caller may
     * see, and the progress of running jobs. {@code more} when the read stopped at its limit.
     */
    PlatformUpdate platformUpdate(Caller caller, EventCursor cursor) {
        return transactions.inNew(c -> {
            List<NewEvent> events = new ArrayList<>();
            int read = Jdbc.query(
                            c,
                            "select " + EVENT_COLUMNS + " from job_events where id > ? order by id limit ?",
                            rs -> {
                                if (cursor.isNew(rs.getLong(1))) {
                                    events.add(new NewEvent(rs.getLong(1), rs.getLong(2), eventView(rs)));
                                }
                                return null;
                            },
                            cursor.readFrom(),
                            READ_LIMIT)
                    .size();
            Set<Long> changed = new LinkedHashSet<>();
            events.forEach(e -> changed.add(e.jobId()));
            List<JobEntity> entities = new ArrayList<>();
            for (long jobId : changed) {
                jobs.find(jobId)
                        .filter(j -> caller.canAccessProject(j.projectId))
                        .ifPresent(entities::add);
            }
            Map<Long, JobView> visible = new LinkedHashMap<>();
            views.views(entities).forEach(v -> visible.put(v.id(), v));
            List<Progress> progress = Jdbc.query(
                            c,
                            """
                    select id, project_id, last_step, total_steps, accrued_cost_usd from jobs
                     where state = any(?) order by id""",
                            rs -> caller.canAccessProject(rs.getLong(2))
                                    ? new Progress(rs.getLong(1), rs.getLong(3), rs.getLong(4), rs.getBigDecimal(5))
                                    : null,
                            c.createArrayOf("text", new String[] {JobState.SCHEDULED.word(), JobState.RUNNING.word()}))
                    .stream()
                    .filter(java.util.Objects::nonNull)
                    .toList();
            return new PlatformUpdate(events, visible, progress, read >= READ_LIMIT);
        });
    }
}
