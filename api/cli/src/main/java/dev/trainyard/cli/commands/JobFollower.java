package dev.trainyard.cli.commands;

import dev.trainyard.cli.Api;
import dev.trainyard.cli.Formats;
import dev.trainyard.cli.JobStates;
import dev.trainyard.cli.MetricSeriesView;
import dev.trainyard.cli.ProgressLine;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.SeriesPoint;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;

/**
 * Polls a job until it ends, drawing its progress on stderr: rewritten in place on a terminal, one line per
 * change of state or every few seconds of progress otherwise (logs of CI jobs stay short).
 */
final class JobFollower {
    private static final Duration PLAIN_EVERY = Duration.ofSeconds(5);
    private final Api api;
    private final PrintWriter err;
    private final Runnable pause;
    private final boolean terminal = System.console() != null;
    private final ProgressLine progress = new ProgressLine();
    private Double loss;
    private String lastState;
    private long lastStep = -1;
    private Instant lastPrinted = Instant.EPOCH;

    JobFollower(Api api, PrintWriter err, Runnable pause) {
        this.api = api;
        this.err = err;
        this.pause = pause;
    }

    Job follow(Job job) {
        show(job);
        while (!JobStates.isTerminal(job.getState())) {
            pause.run();
            job = api.jobs().getJob(job.getId());
            show(job);
        }
        if (terminal) {
            err.println();
        }
        err.flush();
        return job;
    }

    private void show(Job job) {
        Instant now = Instant.now();
        long step = job.getProgress().getStep() == null ? 0 : job.getProgress().getStep();
        long total = job.getProgress().getTotalSteps() == null
                ? 0
                : job.getProgress().getTotalSteps();
        if ("RUNNING".equals(job.getState())) {
            progress.observe(step, now);
        }
        if (step != lastStep && step > 0) {
            loss = lastLoss(job.getId(), step);
        }
        String text = progress.render(job.getState(), step, total, loss, now) + pending(job);
        boolean changed = !job.getState().equals(lastState)
                || (step != lastStep && Duration.between(lastPrinted, now).compareTo(PLAIN_EVERY) >= 0);
        if (terminal) {
            err.print("\r" + text + "\033[K");
        } else if (changed) {
            err.println(text);
            lastPrinted = now;
        }
        err.flush();
        lastState = job.getState();
        lastStep = step;
    }

    private Double lastLoss(long jobId, long step) {
        return api.jobs().getJobMetrics(jobId, Math.max(0, step - 1), "loss", 2, null).getSeries().stream()
                .findFirst()
                .flatMap(MetricSeriesView::last)
                .map(SeriesPoint::getValue)
                .orElse(loss);
    }

    private static String pending(Job job) {
        if (job.getPending() == null
                || JobStates.isTerminal(job.getState())
                || job.getPending().getReason() == null) {
            return "";
        }
        return "  (" + job.getPending().getReason()
                + (job.getPending().getMessage() == null
                        ? ""
                        : ": " + job.getPending().getMessage()) + ")";
    }

    /** "Job 7 (tiny) SUCCEEDED after 14s: step 20/20, loss 2.3011, cost $0.0004". */
    String summary(Job job) {
        OffsetDateTime start = job.getStartedAt() != null ? job.getStartedAt() : job.getSubmittedAt();
        OffsetDateTime end = job.getFinishedAt() != null ? job.getFinishedAt() : OffsetDateTime.now();
        return String.format(
                "Job %d (%s) %s after %s: step %s%s, cost %s%s",
                job.getId(),
                job.getName(),
                job.getState(),
                Formats.duration(Duration.between(start, end)),
                Formats.steps(job.getProgress().getStep(), job.getProgress().getTotalSteps()),
                loss == null ? "" : ", loss " + Formats.number(loss),
                Formats.usd(job.getCost().getAccruedUsd()),
                job.getStateReason() == null ? "" : " (" + job.getStateReason() + ")");
    }
}
