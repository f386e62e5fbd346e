package dev.trainyard.cli.commands;

import dev.trainyard.cli.ExitCodes;
import dev.trainyard.cli.SpecFile;
import dev.trainyard.client.model.Job;
import java.nio.file.Path;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Submits a job spec and, with --wait, follows the job to its end. */
@Command(
        name = "submit",
        description = "Submit a job spec. With --wait, follow the job with a progress bar, loss and"
                + " ETA until it ends; the exit code then tells how it ended (0 SUCCEEDED, 1 FAILED, 2 CANCELLED or"
                + " BUDGET_EXHAUSTED).")
public class SubmitCommand extends ApiCommand {
    @Parameters(paramLabel = "FILE.json", description = "The job spec.")
    private Path file;

    @Option(names = "--wait", description = "Follow the job until it ends.")
    private boolean await;

    @Override
    public Integer call() {
        // one key per invocation: if the answer is lost and the call retried, the API returns the same job
        Job job = api().jobs()
                .submitJob(
                        SpecFile.read(file, api().mapper()), UUID.randomUUID().toString());
        if (!await) {
            if (json) {
                printJson(job);
            } else {
                out().printf("Submitted job %d (%s): %s%n", job.getId(), job.getName(), job.getState());
            }
            out().flush();
            return ExitCodes.OK;
        }
        err().printf("Submitted job %d (%s)%n", job.getId(), job.getName());
        JobFollower follower = new JobFollower(api(), err(), this::pause);
        Job last = follower.follow(job);
        if (json) {
            printJson(last);
        } else {
            out().println(follower.summary(last));
        }
        out().flush();
        return ExitCodes.forFinalState(last.getState());
    }
}
