package dev.trainyard.runner.engine;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.InvalidFieldsException;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.JobSpecValidator;
import dev.trainyard.spec.SpecDocument;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code train}: trains a job spec offline with the same engine the runner agent uses, printing progress. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = "Train a job spec offline; Ctrl-C writes a checkpoint and stops.")
public final class TrainCommand implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--spec", required = true, description = "job spec JSON file")
    Path spec;

    @Option(names = "--out", required = true, description = "output directory (checkpoints/, model/)")
    Path out;

    @Option(names = "--devices", defaultValue = "1", description = "devices (pipeline stages) to use")
    int devices;

    @Option(names = "--resume", description = "checkpoint file to resume from, or 'latest' in --out")
    String resume;

    @Option(names = "--threads-per-stage", defaultValue = "0", description = "intra-op threads per stage (0 = auto)")
    int threadsPerStage;

    @Option(names = "--steps", defaultValue = "0", description = "override training.steps")
    int steps;

    @Option(names = "--dp-rank", defaultValue = "0", description = "this process's data-parallel rank")
    int dpRank;

    @Option(
            names = "--dp-store",
            description = "host:port of the rank-0 TCP store (data parallelism over"
                    + " processes; without it this process trains every replica)")
    String dpStore;

    @Option(
            names = "--dp-processes",
            defaultValue = "0",
            description = "processes sharing the replicas (default: one per replica)")
    int dpProcesses;

    @Option(names = "--dp-replicas", description = "FIRST:COUNT, the replicas this process holds (default RANK:1)")
    String dpReplicas;

    @Option(names = "--pp-rank", defaultValue = "0", description = "this process's pipeline rank")
    int ppRank;

    @Option(
            names = "--pp-store",
            description = "host:port of pipeline rank 0's TCP store (a pipeline spread over processes; without it"
                    + " this process runs every stage)")
    String ppStore;

    @Option(names = "--pp-processes", defaultValue = "2", description = "processes sharing the pipeline's stages")
    int ppProcesses;

    @Option(names = "--pp-stages", description = "FIRST:END, the stages this process runs (END exclusive)")
    String ppStages;

    private PipelineGroup pipelineGroup(Integer stages) {
        try {
            String[] hostPort = ppStore.split(":");
            String[] held = ppStages.split(":");
            return new PipelineGroup(
                    ppRank,
                    ppProcesses,
                    Integer.parseInt(held[0]),
                    Integer.parseInt(held[1]),
                    stages,
                    hostPort[0],
                    Integer.parseInt(hostPort[1]),
                    null);
        } catch (RuntimeException e) {
            throw new CommandLine.ParameterException(
                    new CommandLine(this),
                    "--pp-store must be HOST:PORT and --pp-stages FIRST:END among parallelism.stages (" + stages
                            + "), in rank order (" + e.getMessage() + ")");
        }
    }

    private DataParallelGroup replicaGroup(int replicas) {
        try {
            String[] hostPort = dpStore.split(":");
            String[] held = (dpReplicas != null ? dpReplicas : dpRank + ":1").split(":");
            return new DataParallelGroup(
                    dpRank,
                    dpProcesses > 0 ? dpProcesses : replicas,
                    Integer.parseInt(held[0]),
                    Integer.parseInt(held[1]),
                    replicas,
                    hostPort[0],
                    Integer.parseInt(hostPort[1]),
                    null);
        } catch (RuntimeException e) {
            throw new CommandLine.ParameterException(
                    new CommandLine(this),
                    "--dp-store must be HOST:PORT and --dp-replicas FIRST:COUNT among the job's " + replicas
                            + " replicas (" + e.getMessage() + ")");
        }
    }

    /** Parses {@code args} and runs; returns the exit code. */
    public static int run(String[] args) {
        return new CommandLine(new TrainCommand()).execute(args);
    }

    @Override
    public Integer call() {
        try {
            TrainingResult result = Trainer.train(configuredRun(), new TorchEngine());
            System.out.printf(
                    "%s at step %d, loss %.4f, eval loss %.4f%n",
                    result.outcome(), result.finalStep(), result.lastLoss(), result.lastEvalLoss());
            return 0;
        } catch (InvalidFieldsException e) {
            e.violations().forEach(v -> System.err.println("error: " + v.field() + ": " + v.message()));
            return 1;
        } catch (IllegalArgumentException | MemoryPlanException | CheckpointIntegrityException e) {
            // SpecException, and a layout the devices cannot hold (more stages than blocks)
            System.err.println("error: " + e.getMessage());
            return 1;
        } finally {
            // Whatever happened, a pending Ctrl-C hook must not wait for a checkpoint that will never come.
            finished.countDown();
        }
    }

    private TrainingRun configuredRun() {
        JobSpec written = SpecDocument.parse(readSpec());
        if (steps > 0 && written.training() != null) {
            // before the defaults: warmup, eval and checkpoint intervals follow the steps actually trained
            written = written.withTraining(written.training().withSteps(steps));
        }
        JobSpec job = JobSpecValidator.normalizeForTraining(written);
        TrainingRun run = TrainingRun.of(job, devices, out)
                .withThreadsPerStage(threadsPerStage)
                .reportingTo(new ConsoleListener(System.out))
                .stoppingOn(interruptSignal());
        if (dpStore != null) {
            run = run.asReplica(replicaGroup(job.parallelism().dataParallel()));
        }
        if (ppStore != null) {
            run = run.asPipelineRank(pipelineGroup(job.parallelism().stages()));
        }
        if (resume != null) {
            Path from = resume.equals("latest")
                    ? new CheckpointStore(out.resolve("checkpoints"))
                            .latest()
                            .orElseThrow(() -> new SpecException("no checkpoint in " + out.resolve("checkpoints")))
                    : Path.of(resume);
            run = run.resumingFrom(from);
        }
        return run;
    }

    private String readSpec() {
        try {
            return Files.readString(spec);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read job spec " + spec, e);
        }
    }

    private final CountDownLatch finished = new CountDownLatch(1);

    /** Ctrl-C asks for a checkpoint and waits (bounded) for the engine to write it before the JVM exits. */
    private StopSignal interruptSignal() {
        AtomicBoolean interrupted = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            interrupted.set(true);
            try {
                finished.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        return completed -> interrupted.get() ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE;
    }
}
