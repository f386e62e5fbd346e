package dev.trainyard.cli.commands;

import dev.trainyard.cli.Formats;
import dev.trainyard.cli.Table;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.PendingInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Shows one job. */
@Command(name = "get", description = "Show one job.")
public class GetCommand extends ApiCommand {
    @Parameters(paramLabel = "ID", description = "Job id.")
    private long id;

    @Override
    public Integer call() {
        Job job = api().jobs().getJob(id);
        if (json) {
            printJson(job);
            return 0;
        }
        Table t = new Table("", "")
                .add("id", job.getId())
                .add("name", job.getName())
                .add("project", job.getProject())
                .add(
                        "state",
                        job.getState() + (Boolean.TRUE.equals(job.getCancelRequested()) ? " (cancel requested)" : ""))
                .add("reason", job.getStateReason())
                .add("priority", job.getPriority())
                .add("pool", job.getPool() != null ? job.getPool() : job.getGpuType())
                .add(
                        "gpus",
                        job.getGpus()
                                + (job.getMinGpus().equals(job.getGpus()) ? "" : " (min " + job.getMinGpus() + ")"))
                .add(
                        "step",
                        Formats.steps(
                                job.getProgress().getStep(), job.getProgress().getTotalSteps()))
                .add(
                        "cost",
                        Formats.usd(job.getCost().getAccruedUsd())
                                + (job.getCost().getMaxUsd() == null
                                        ? ""
                                        : " of " + Formats.usd(job.getCost().getMaxUsd())))
                .add("restarts", job.getRestarts() + " of " + job.getMaxRestarts())
                .add("submitted", Formats.time(job.getSubmittedAt()))
                .add("started", Formats.time(job.getStartedAt()))
                .add("finished", Formats.time(job.getFinishedAt()));
        PendingInfo p = job.getPending();
        if (p != null) {
            t.add("waiting", p.getReason() + (p.getMessage() == null ? "" : ": " + p.getMessage()))
                    .add("queue position", p.getQueuePosition())
                    .add("estimated start", Formats.time(p.getEstimatedStartAt()));
        }
        out().print(t.renderRows());
        out().flush();
        return 0;
    }
}
