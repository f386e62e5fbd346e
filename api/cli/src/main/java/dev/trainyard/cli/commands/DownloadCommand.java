package dev.trainyard.cli.commands;

import dev.trainyard.cli.CheckpointDownload;
import dev.trainyard.cli.CliFailure;
import dev.trainyard.cli.ExitCodes;
import dev.trainyard.cli.Formats;
import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.CheckpointShard;
import dev.trainyard.client.model.ExportFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Downloads a checkpoint (the latest by default), or with --export the final export, verifying SHA-256s. */
@Command(
        name = "download",
        description = "Download a checkpoint of a job (the latest by default), or with --export its final export"
                + " (model.safetensors and config.json), and verify each SHA-256. A sharded checkpoint (one file"
                + " per data-parallel rank) is saved as a folder of its shards.")
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
            description = "Where to write it (default: job-ID-step-STEP.safetensors in the current directory;"
                    + " for a sharded checkpoint a folder, default job-ID-step-STEP; with --export a folder,"
                    + " default job-ID-export).")
    private Path output;

    @Option(
            names = "--export",
            description = "Download the final export of a SUCCEEDED job (weights and the config that rebuilds the"
                    + " model; see docs/exported-weights.md) into a folder instead of a checkpoint.")
    private boolean export;

    @Override
    public Integer call() {
        if (export) {
            return downloadExport();
        }
        Checkpoint c = choose(api().jobs().listJobCheckpoints(id));
        if (c.getShardCount() != null && c.getShardCount() > 1) {
            return downloadShards(c);
        }
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

    /**
     * A sharded checkpoint has no single file: every shard goes into a folder under the engine's names, each with
     * the small manifest (size, SHA-256) the engine checks it against, so {@code train --resume} takes the folder's
     * shard 0 as it is.
     */
    private Integer downloadShards(Checkpoint c) {
        Path folder = output != null ? output : Path.of("job-" + id + "-step-" + c.getStep());
        CheckpointDownload download = new CheckpointDownload(api());
        long total = 0;
        List<Map<String, Object>> saved = new ArrayList<>();
        for (CheckpointShard shard : c.getShards()) {
            String base = String.format("step-%08d.shard-%d-of-%d", c.getStep(), shard.getShard(), c.getShardCount());
            Path target = folder.resolve(base + ".safetensors");
            long size = download.downloadShard(id, c.getId(), shard.getShard(), shard.getSha256(), target);
            writeShardManifest(folder.resolve(base + ".manifest.json"), c, shard, target);
            total += size;
            saved.add(Map.of(
                    "shard",
                    shard.getShard(),
                    "file",
                    target.toAbsolutePath().toString(),
                    "sha256",
                    shard.getSha256()));
        }
        if (json) {
            printJson(Map.of(
                    "jobId",
                    id,
                    "checkpointId",
                    c.getId(),
                    "step",
                    c.getStep(),
                    "folder",
                    folder.toAbsolutePath().toString(),
                    "sizeBytes",
                    total,
                    "shards",
                    saved));
        } else {
            out().printf(
                            "Saved checkpoint %d (step %d) of job %d, %d shards, to %s: %s, each shard's SHA-256"
                                    + " verified%n",
                            c.getId(), c.getStep(), id, c.getShardCount(), folder, Formats.bytes(total));
        }
        out().flush();
        return ExitCodes.OK;
    }

    private static void writeShardManifest(Path manifest, Checkpoint c, CheckpointShard shard, Path file) {
        Map<String, Object> fields = new java.util.LinkedHashMap<>();
        fields.put("format", "trainyard-sharded-checkpoint-1");
        fields.put("file", file.getFileName().toString());
        fields.put("step", c.getStep());
        fields.put("shard", shard.getShard());
        fields.put("shards", c.getShardCount());
        fields.put("sha256", shard.getSha256());
        fields.put("bytes", shard.getSizeBytes());
        try {
            java.nio.file.Files.writeString(
                    manifest, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(fields));
        } catch (java.io.IOException e) {
            throw new CliFailure(ExitCodes.FAILURE, "cannot write " + manifest + ": " + e.getMessage());
        }
    }

    private Integer downloadExport() {
        if (checkpointId != null) {
            throw new CliFailure(ExitCodes.USAGE, "--export takes no CHECKPOINT_ID: a job has one export");
        }
        List<ExportFile> files = api().jobs().getJobExport(id).getFiles();
        if (files.isEmpty()) {
            throw new CliFailure(
                    ExitCodes.NOT_FOUND, "job " + id + " has no export yet: a job has one once it SUCCEEDED");
        }
        Path folder = output != null ? output : Path.of("job-" + id + "-export");
        CheckpointDownload download = new CheckpointDownload(api());
        List<Map<String, Object>> saved = new ArrayList<>();
        for (ExportFile f : files) {
            Path target = folder.resolve(f.getName());
            long size = download.downloadExportFile(id, f.getName(), f.getSha256(), target);
            saved.add(Map.of(
                    "name",
                    f.getName(),
                    "file",
                    target.toAbsolutePath().toString(),
                    "sizeBytes",
                    size,
                    "sha256",
                    f.getSha256()));
            if (!json) {
                out().printf(
                                "Saved %s of job %d to %s: %s, SHA-256 %s verified%n",
                                f.getName(), id, target, Formats.bytes(size), f.getSha256());
            }
        }
        if (json) {
            printJson(Map.of("jobId", id, "folder", folder.toAbsolutePath().toString(), "files", saved));
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
