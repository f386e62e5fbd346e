package dev.trainyard.api.streams;

import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.db.Transactions;
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
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The reads behind the live streams: what changed since a stream's last look. */
@ApplicationScoped
public class StreamQueries {
    private static final int MAX_POINTS = 5_000;

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

    /** New data for the platform-wide stream. */
    public record PlatformUpdate(List<JobView> jobs, List<Progress> progress) {}

    /** What is new for a job stream, or null when the job is gone or no longer visible. */
    JobUpdate jobUpdate(
            Caller caller,
            long jobId,
            long knownVersion,
            long afterEvent,
            Map<String, Long> afterSteps,
            long afterLog) {
        return transactions.inNew(c -> {
            JobEntity job = jobs.find(jobId)
                    .filter(j -> caller.canAccessProject(j.projectId))
                    .orElse(null);
            if (job == null) {
                return null;
            }
            List<JobEventView> events = Jdbc.query(
                    c,
                    """
                    select id, job_id, at, from_state, to_state, reason, message, attempt_id from job_events
                     where job_id = ? and id > ? order by id""",
                    rs -> new JobEventView(
                            rs.getLong(1),
                            rs.getLong(2),
                            Jdbc.instant(rs, 3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getString(6),
                            rs.getString(7),
                            Jdbc.longOrNull(rs, 8)),
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

    /** Jobs with events the cursor has not seen (moving it past them), and the progress of running jobs. */
    PlatformUpdate platformUpdate(Caller caller, EventCursor cursor) {
        return transactions.inNew(c -> {
            // ordered by each job's newest new event, so the client applies changes in the order they happened
            Set<Long> changed = new LinkedHashSet<>();
            Jdbc.query(
                    c,
                    "select id, job_id from job_events where id > ? order by id limit 2000",
                    rs -> {
                        if (cursor.take(rs.getLong(1))) {
                            changed.remove(rs.getLong(2));
                            changed.add(rs.getLong(2));
                        }
                        return null;
                    },
                    cursor.readFrom());
            cursor.trim();
            List<JobEntity> entities = new ArrayList<>();
            for (long jobId : changed) {
                jobs.find(jobId)
                        .filter(j -> caller.canAccessProject(j.projectId))
                        .ifPresent(entities::add);
            }
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
            return new PlatformUpdate(views.views(entities), progress);
        });
    }
}
