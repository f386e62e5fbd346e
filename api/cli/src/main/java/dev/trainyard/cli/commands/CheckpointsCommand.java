package dev.trainyard.cli.commands;

import dev.trainyard.cli.Formats;
import dev.trainyard.cli.Table;
import dev.trainyard.client.model.Checkpoint;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Lists a job's complete checkpoints, newest first. */
@Command(name = "checkpoints", description = "List a job's complete checkpoints, newest first.")
public class CheckpointsCommand extends ApiCommand {
    @Parameters(paramLabel = "ID", description = "Job id.")
    private long id;

    @Override
    public Integer call() {
        List<Checkpoint> checkpoints = api().jobs().listJobCheckpoints(id);
        Table t = new Table("ID", "STEP", "SHARDS", "SIZE", "EVAL_LOSS", "SHA256", "CREATED");
        for (Checkpoint c : checkpoints) {
            t.add(
                    c.getId(),
                    c.getStep(),
                    c.getShardCount() == null ? 1 : c.getShardCount(),
                    Formats.bytes(c.getSizeBytes()),
                    Formats.number(c.getEvalLoss()),
                    c.getSha256(),
                    Formats.time(c.getCreatedAt()));
        }
        return print(checkpoints, t);
    }
}
