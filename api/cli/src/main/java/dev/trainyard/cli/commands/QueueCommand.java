package dev.trainyard.cli.commands;

import dev.trainyard.cli.Formats;
import dev.trainyard.cli.Table;
import dev.trainyard.client.model.QueueEntry;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Shows a pool's queue in the order the scheduler will consider it, with why each job waits. */
@Command(name = "queue", description = "Show a pool's queue in scheduling order, with why each job waits.")
public class QueueCommand extends ApiCommand {
    @Parameters(paramLabel = "POOL", description = "Pool name.")
    private String pool;

    @Override
    public Integer call() {
        List<QueueEntry> queue = api().pools().getPoolQueue(pool);
        Table t = new Table("POS", "JOB", "NAME", "PROJECT", "PRIORITY", "GPUS", "REASON", "ESTIMATED_START");
        for (QueueEntry e : queue) {
            t.add(
                    e.getPosition(),
                    e.getJobId(),
                    e.getName(),
                    e.getProject(),
                    e.getPriority(),
                    e.getGpus(),
                    e.getReason(),
                    Formats.time(e.getEstimatedStartAt()));
        }
        return print(queue, t);
    }
}
