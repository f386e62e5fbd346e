package dev.trainyard.cli.commands;

import dev.trainyard.cli.CheckpointDownload;
import dev.trainyard.cli.CliFailure;
import dev.trainyard.cli.ExitCodes;
import dev.trainyard.cli.Formats;
import dev.trainyard.client.model.Checkpoint;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Downloads a checkpoint (the latest by default) and verifies its SHA-256. */
@Command(
        name = "download",
        description = "Download a checkpoint of a job (the latest by default) and verify its" + " SHA-256.")
public class DownloadCommand extends ApiCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "Job id.")
    private long id;

    @Parameters(
            index = "1",
            arity = "0..1",
            paramLabel = "CHECKPOINT_ID",
            description = "Checkpoint id (default:" + " the one of the highest step).")
    private Long checkpointId;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "FILE",
            description = "Where to write it (default:" + " job-ID-step-STEP.safetensors in the current directory).")
    private Path output;

    @Override
    public Integer call() {
        Checkpoint c = choose(api().jobs().listJobCheckpoints(id));
        Path target = output != null ? output : Path.of("job-" + id + "-step-" + c.getStep() + ".safetensors");
        long size = new CheckpointDownload(api()).download(id, c.getId(), c.getSha256(), target);
        if (json) {
            printJson(Map.of(
                    "jobId",
                    id,
                    "checkpointId",
                    c.getId(),
                    "step",
                    c.getStep(),
                    "file",
                    target.toAbsolutePath().toString(),
                    "sizeBytes",
                    size,
                    "sha256",
                    c.getSha256()));
        } else {
            out().printf(
                            "Saved checkpoint %d (step %d) of job %d to %s: %s, SHA-256 %s verified%n",
                            c.getId(), c.getStep(), id, target, Formats.bytes(size), c.getSha256());
        }
        out().flush();
        return ExitCodes.OK;
    }

    private Checkpoint choose(List<Checkpoint> checkpoints) {
        if (checkpointId != null) {
            return checkpoints.stream()
                    .filter(c -> c.getId().equals(checkpointId))
                    .findFirst()
                    .orElseThrow(() -> new CliFailure(
                            ExitCodes.NOT_FOUND, "job " + id + " has no complete checkpoint " + checkpointId));
        }
        return checkpoints.stream()
                .max(Comparator.comparing(Checkpoint::getStep).thenComparing(Checkpoint::getId))
                .orElseThrow(() -> new CliFailure(ExitCodes.NOT_FOUND, "job " + id + " has no checkpoint yet"));
    }
}
