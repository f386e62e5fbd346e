package dev.trainyard.cli.commands;

import dev.trainyard.client.model.Job;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Cancels a job: at once while it waits, through its runner while it runs. */
@Command(
        name = "cancel",
        description = "Cancel a job. A waiting job ends at once; a running one is asked to stop"
                + " and ends CANCELLED when its runner confirms.")
public class CancelCommand extends ApiCommand {
    @Parameters(paramLabel = "ID", description = "Job id.")
    private long id;

    @Override
    public Integer call() {
        Job job = api().jobs().cancelJob(id);
        if (json) {
            printJson(job);
        } else if (Boolean.TRUE.equals(job.getCancelRequested()) && !"CANCELLED".equals(job.getState())) {
            out().printf(
                            "Job %d (%s): cancel requested; it is %s until its runner stops it%n",
                            job.getId(), job.getName(), job.getState());
        } else {
            out().printf("Job %d (%s): %s%n", job.getId(), job.getName(), job.getState());
        }
        out().flush();
        return 0;
    }
}
