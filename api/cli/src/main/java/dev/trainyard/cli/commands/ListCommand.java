package dev.trainyard.cli.commands;

import dev.trainyard.cli.CliFailure;
import dev.trainyard.cli.ExitCodes;
import dev.trainyard.cli.Formats;
import dev.trainyard.cli.Table;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobPage;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Lists jobs, newest first, following the API's pages up to --limit. */
@Command(name = "ls", description = "List jobs, newest first.")
public class ListCommand extends ApiCommand {
    private static final int MAX_PAGE = 200;

    @Option(names = "--state", description = "Only jobs in this state (QUEUED, RUNNING, SUCCEEDED, ...).")
    private String state;

    @Option(names = "--project", description = "Only jobs of this project.")
    private String project;

    @Option(names = "--pool", description = "Only jobs of this pool.")
    private String pool;

    @Option(names = "--name", description = "Only jobs whose name contains this.")
    private String name;

    @Option(names = "--limit", defaultValue = "50", description = "At most this many jobs (default ${DEFAULT-VALUE}).")
    private int limit;

    @Option(names = "--cursor", description = "Start after this cursor (printed when there are more jobs).")
    private String cursor;

    @Override
    public Integer call() {
        if (limit < 1) {
            throw new CliFailure(ExitCodes.USAGE, "--limit must be at least 1");
        }
        JobPage all = collect();
        if (!json && all.getNextCursor() != null) {
            err().println("more jobs: trainyard ls --cursor " + all.getNextCursor());
            err().flush();
        }
        return print(all, table(all.getItems()));
    }

    /** Pages until {@code limit} jobs or the last page; the answer's cursor continues where it stopped. */
    private JobPage collect() {
        List<Job> jobs = new ArrayList<>();
        String next = cursor;
        do {
            int want = Math.min(MAX_PAGE, limit - jobs.size());
            JobPage page = api().jobs().listJobs(next, want, name, pool, project, state);
            jobs.addAll(page.getItems());
            next = page.getNextCursor();
        } while (next != null && jobs.size() < limit);
        return new JobPage().items(jobs).nextCursor(next);
    }

    static Table table(List<Job> jobs) {
        Table t = new Table("ID", "NAME", "PROJECT", "STATE", "POOL", "GPUS", "STEP", "COST", "SUBMITTED");
        for (Job j : jobs) {
            t.add(
                    j.getId(),
                    j.getName(),
                    j.getProject(),
                    j.getState(),
                    j.getPool(),
                    j.getGpus(),
                    Formats.steps(j.getProgress().getStep(), j.getProgress().getTotalSteps()),
                    Formats.usd(j.getCost().getAccruedUsd()),
                    Formats.time(j.getSubmittedAt()));
        }
        return t;
    }
}
