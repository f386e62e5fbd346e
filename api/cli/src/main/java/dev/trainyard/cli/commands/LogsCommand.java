package dev.trainyard.cli.commands;

import dev.trainyard.cli.JobStates;
import dev.trainyard.client.model.JobLogLine;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Prints a job's newest log lines and, with -f, the ones that follow until the job ends. */
@Command(name = "logs", description = "Print a job's log; with -f keep printing new lines until the job ends.")
public class LogsCommand extends ApiCommand {
    private static final int PAGE = 1000;

    @Parameters(paramLabel = "ID", description = "Job id.")
    private long id;

    @Option(
            names = {"-f", "--follow"},
            description = "Follow the log until the job ends.")
    private boolean follow;

    @Option(
            names = "--tail",
            defaultValue = "200",
            description = "How many of the newest lines to start with" + " (default ${DEFAULT-VALUE}).")
    private int tail;

    @Override
    public Integer call() {
        List<JobLogLine> lines = api().jobs().getJobLogs(id, null, tail);
        long last = print(lines, 0);
        while (follow) {
            // the job's state is read before the lines, so lines written just before it ended are not missed
            boolean ended = JobStates.isTerminal(api().jobs().getJob(id).getState());
            List<JobLogLine> more;
            do {
                more = api().jobs().getJobLogs(id, last, PAGE);
                last = print(more, last);
            } while (more.size() == PAGE);
            if (ended) {
                break;
            }
            pause();
        }
        return 0;
    }

    /** Prints the lines (as JSON objects, one per line, with --json) and answers the id of the last one. */
    private long print(List<JobLogLine> lines, long last) {
        for (JobLogLine l : lines) {
            if (json) {
                printCompactJson(l);
            } else {
                out().println(l.getLine());
            }
            last = l.getId();
        }
        out().flush();
        return last;
    }

    private void printCompactJson(JobLogLine line) {
        try {
            out().println(api().mapper().writeValueAsString(line));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
