package dev.trainyard.api.jobs;

import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What the job detail endpoints answer with. */
public final class JobDetailViews {
    private JobDetailViews() {}

    /** One placement of a job. */
    @Schema(name = "Attempt")
    public record Attempt(
            @Schema(required = true) long id,
            @Schema(required = true) int number,

            @Schema(required = true, description = "Runner of rank 0")
            String runner,

            @Schema(required = true, description = "Runners by rank")
            List<String> runners,

            @Schema(required = true) int gpus,

            @Schema(required = true, description = "STARTING, RUNNING, PREEMPTING, STOPPING or ENDED")
            String state,

            @Schema(required = true) Instant startedAt,
            Instant endedAt,
            String endReason,
            Long resumedFromCheckpoint,
            @Schema(required = true) java.math.BigDecimal costUsd) {}

    /** One metric series over steps. */
    @Schema(name = "MetricSeries")
    public record Series(
            @Schema(required = true) String name,
            @Schema(required = true) List<Point> points) {}

    /** One value at one step. */
    @Schema(name = "SeriesPoint")
    public record Point(
            @Schema(required = true) long step,
            @Schema(required = true) double value) {}

    /** Metric series of a job over a range of steps, downsampled. */
    @Schema(name = "Metrics")
    public record Metrics(
            @Schema(required = true) long jobId,

            @Schema(required = true, description = "Every metric name the job reported")
            List<String> available,

            @Schema(required = true) List<Series> series) {}

    /** One log line of a job. */
    @Schema(name = "JobLogLine")
    public record LogLine(
            @Schema(required = true) long id,
            @Schema(required = true) long attemptId,
            @Schema(required = true) Instant at,
            @Schema(required = true) String line) {}

    /** A waiting job in a pool's queue. */
    @Schema(name = "QueueEntry")
    public record QueueEntry(
            @Schema(required = true) int position,
            @Schema(required = true) long jobId,

            @Schema(description = "Absent for another project's job, unless the caller is an admin")
            String name,

            @Schema(required = true) String project,
            @Schema(required = true) String priority,
            @Schema(required = true) int gpus,
            String reason,
            String message,
            Instant estimatedStartAt,
            @Schema(required = true) Instant submittedAt) {}
}
