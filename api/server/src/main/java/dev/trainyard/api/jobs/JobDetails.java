package dev.trainyard.api.jobs;

import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.checkpoints.CheckpointFiles;
import dev.trainyard.api.checkpoints.CheckpointIndex;
import dev.trainyard.api.checkpoints.CheckpointShards;
import dev.trainyard.api.checkpoints.CheckpointView;
import dev.trainyard.api.checkpoints.ExportFileView;
import dev.trainyard.api.checkpoints.ExportIndex;
import dev.trainyard.api.checkpoints.ExportView;
import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.db.Transactions;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.api.persistence.JobEntity;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads of a job's details: attempts, metrics, logs, checkpoints; and deleting its checkpoints. */
@ApplicationScoped
public class JobDetails {
    private final JobService jobs;
    private final Transactions transactions;
    private final CheckpointFiles files;

    public JobDetails(JobService jobs, Transactions transactions, CheckpointFiles files) {
        this.jobs = jobs;
        this.transactions = transactions;
        this.files = files;
    }

    /** Work on a job the caller may see, in a transaction of its own. */
    private <T> T read(Caller caller, long jobId, Transactions.Work<T> work) {
        return transactions.inNew(c -> {
            jobs.visible(caller, jobId);
            return work.run(c);
        });
    }

    public List<JobDetailViews.Attempt> attempts(Caller caller, long jobId) {
        return read(
                caller,
                jobId,
                c -> Jdbc.query(
                        c,
                        """
                select a.id, a.number, a.gpus, a.state, a.started_at, a.ended_at, a.end_reason, a.resume_checkpoint_id,
                       a.accrued_cost_usd,
                       (select array_agg(r.name order by ar.rank) from attempt_runners ar join runners r on r.id = ar.runner_id
                         where ar.attempt_id = a.id)
                  from attempts a where a.job_id = ? order by a.number""",
                        rs -> {
                            java.sql.Array names = rs.getArray(10);
                            List<String> runners =
                                    names == null ? List.of() : Arrays.asList((String[]) names.getArray());
                            return new JobDetailViews.Attempt(
                                    rs.getLong(1),
                                    rs.getInt(2),
                                    runners.isEmpty() ? "" : runners.get(0),
                                    runners,
                                    rs.getInt(3),
                                    rs.getString(4),
                                    Jdbc.instant(rs, 5),
                                    Jdbc.instant(rs, 6),
                                    rs.getString(7),
                                    Jdbc.longOrNull(rs, 8),
                                    rs.getBigDecimal(9));
                        },
                        jobId));
    }

    /**
     * Series over [fromStep, toStep], at most about {@code points} per series: steps are cut into buckets and
     * each bucket keeps its lowest and highest value, so spikes survive downsampling.
     */
    public JobDetailViews.Metrics metrics(
            Caller caller, long jobId, List<String> names, Long fromStep, Long toStep, Integer points) {
        int maxPoints = points == null ? 500 : points;
        if (maxPoints < 2 || maxPoints > 10_000) {
            throw new ApiException.InvalidInput(ProblemType.BAD_PARAMETER, "points must be between 2 and 10000");
        }
        long from = fromStep == null ? 0 : fromStep;
        long to = toStep == null ? Long.MAX_VALUE / 2 : toStep;
        if (from < 0 || to < from) {
            throw new ApiException.InvalidInput(ProblemType.BAD_PARAMETER, "need 0 <= fromStep <= toStep");
        }
        return read(caller, jobId, c -> {
            List<String> available = Jdbc.query(
                    c,
                    "select distinct name from metric_points where job_id = ? order by name",
                    rs -> rs.getString(1),
                    jobId);
            List<String> wanted = names == null || names.isEmpty()
                    ? available
                    : names.stream().filter(available::contains).toList();
            long last = Jdbc.queryOne(
                            c,
                            "select coalesce(max(step), 0) from metric_points where job_id = ?",
                            rs -> rs.getLong(1),
                            jobId)
                    .orElse(0L);
            long upper = Math.min(to, last);
            Map<String, List<JobDetailViews.Point>> series = new LinkedHashMap<>();
            wanted.forEach(n -> series.put(n, new ArrayList<>()));
            if (!wanted.isEmpty() && upper >= from) {
                Jdbc.query(
                        c,
                        """
                        with pts as (
                          select name, step, value, width_bucket(step, ?, ? + 1, ?) b from metric_points
                           where job_id = ? and step between ? and ? and name = any(?)
                        ), ranked as (
                          select name, step, value,
                                 row_number() over (partition by name, b order by value, step) lo,
                                 row_number() over (partition by name, b order by value desc, step) hi
                            from pts)
                        select name, step, value from ranked where lo = 1 or hi = 1 order by name, step""",
                        rs -> series.get(rs.getString(1)).add(new JobDetailViews.Point(rs.getLong(2), rs.getDouble(3))),
                        from,
                        upper,
                        Math.max(1, maxPoints / 2),
                        jobId,
                        from,
                        upper,
                        c.createArrayOf("text", wanted.toArray()));
            }
            List<JobDetailViews.Series> out = new ArrayList<>();
            series.forEach((n, p) -> out.add(new JobDetailViews.Series(n, p)));
            return new JobDetailViews.Metrics(jobId, available, out);
        });
    }

    /** The newest {@code limit} lines, or the lines after {@code afterId} when following. */
    public List<JobDetailViews.LogLine> logs(Caller caller, long jobId, Long afterId, Integer limit) {
        int max = limit == null ? 200 : limit;
        if (max < 1 || max > 5000) {
            throw new ApiException.InvalidInput(ProblemType.BAD_PARAMETER, "limit must be between 1 and 5000");
        }
        return read(caller, jobId, c -> {
            if (afterId != null) {
                return Jdbc.query(
                        c,
                        "select id, attempt_id, at, line from job_logs where job_id = ? and id > ? "
                                + "order by id limit ?",
                        JobDetails::logLine,
                        jobId,
                        afterId,
                        max);
            }
            List<JobDetailViews.LogLine> newest = Jdbc.query(
                    c,
                    "select id, attempt_id, at, line from job_logs " + "where job_id = ? order by id desc limit ?",
                    JobDetails::logLine,
                    jobId,
                    max);
            List<JobDetailViews.LogLine> ordered = new ArrayList<>(newest);
            java.util.Collections.reverse(ordered);
            return ordered;
        });
    }

    private static JobDetailViews.LogLine logLine(java.sql.ResultSet rs) throws SQLException {
        return new JobDetailViews.LogLine(rs.getLong(1), rs.getLong(2), Jdbc.instant(rs, 3), rs.getString(4));
    }

    public List<CheckpointView> checkpoints(Caller caller, long jobId) {
        return read(
                caller,
                jobId,
                c -> CheckpointIndex.complete(c, jobId).stream()
                        .map(CheckpointIndex.Row::view)
                        .toList());
    }

    /**
     * The file of a complete checkpoint, for download: a whole checkpoint's, or shard {@code shard} of a sharded
     * one (which has no single file: asked without a shard, it is a 400 naming how many there are).
     */
    public Download checkpointFile(Caller caller, long jobId, long checkpointId, Integer shard) {
        return read(caller, jobId, c -> {
            CheckpointIndex.Row row = CheckpointIndex.find(c, jobId, checkpointId)
                    .orElseThrow(() -> new ApiException.NotFound("checkpoint", checkpointId));
            CheckpointShards.StoredFile file = CheckpointShards.fileOf(c, row, shard);
            return new Download(files.resolve(file.path()), row.view(), file.sha256());
        });
    }

    /** A checkpoint file (or shard) with its index entry and its own digest. */
    public record Download(Path file, CheckpointView checkpoint, String sha256) {}

    /** The job's final export: the files its completing attempt uploaded (none before that). */
    public ExportView export(Caller caller, long jobId) {
        return read(
                caller,
                jobId,
                c -> new ExportView(
                        jobId,
                        ExportIndex.files(c, jobId).stream()
                                .map(ExportIndex.Row::view)
                                .toList()));
    }

    /** One file of the job's export, for download; a name the export does not hold is not found. */
    public ExportDownload exportFile(Caller caller, long jobId, String name) {
        // only the known names reach SQL: a path segment may hold anything, a NUL included
        ExportIndex.Row row = read(
                        caller,
                        jobId,
                        c -> ExportIndex.NAMES.contains(name)
                                ? ExportIndex.find(c, jobId, name)
                                : java.util.Optional.<ExportIndex.Row>empty())
                .orElseThrow(() -> new ApiException.NotFound(
                        "export file", ExportIndex.NAMES.contains(name) ? name : "(not an export file name)"));
        return new ExportDownload(files.resolve(row.path()), row.view());
    }

    /** An export file with its index entry. */
    public record ExportDownload(Path file, ExportFileView export) {}

    /** Deletes every checkpoint of a finished job: rows are marked now, files go in the next sweep. */
    public int deleteCheckpoints(Caller caller, long jobId) {
        return read(caller, jobId, c -> {
            JobEntity job = jobs.visible(caller, jobId);
            if (!JobState.ofWord(job.state).isTerminal()) {
                throw new ApiException.Conflict(
                        ProblemType.INVALID_STATE,
                        "Job " + jobId + " is " + job.state + "; cancel it before deleting its checkpoints");
            }
            return CheckpointIndex.deleteAll(c, jobId);
        });
    }

    /**
     * Waiting jobs of a pool in queue order. Every member sees the whole queue (where its jobs stand), but job
     * names only of its own project's jobs: a name can say what another team is working on.
     */
    public List<JobDetailViews.QueueEntry> queue(Caller caller, long poolId) {
        long ownProject = caller.projectId() == null ? -1 : caller.projectId();
        return transactions.inNew(c -> Jdbc.query(
                c,
                """
                        select coalesce(j.queue_position, 0), j.id,
                               case when ? or j.project_id = ? then j.name end, p.name, lower(j.priority), j.gpus,
                               j.pending_reason, j.pending_message, j.estimated_start_at, j.submitted_at
                          from jobs j join projects p on p.id = j.project_id
                         where j.state = ?
                           and (j.pool_id = ? or (j.pool_id is null and j.gpu_type = (select gpu_type from pools where id = ?)))
                         order by j.queue_position nulls last, j.id""",
                rs -> new JobDetailViews.QueueEntry(
                        rs.getInt(1),
                        rs.getLong(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getInt(6),
                        rs.getString(7),
                        rs.getString(8),
                        Jdbc.instant(rs, 9),
                        Jdbc.instant(rs, 10)),
                caller.isAdmin(),
                ownProject,
                JobState.QUEUED.word(),
                poolId,
                poolId));
    }
}
