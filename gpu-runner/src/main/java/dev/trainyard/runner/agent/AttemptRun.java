package dev.trainyard.runner.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trainyard.client.ApiException;
import dev.trainyard.client.model.Assignment;
import dev.trainyard.client.model.AttemptCall;
import dev.trainyard.client.model.AttemptEnd;
import dev.trainyard.client.model.CheckpointRef;
import dev.trainyard.client.model.CheckpointShard;
import dev.trainyard.client.model.Divergence;
import dev.trainyard.runner.engine.CheckpointStore;
import dev.trainyard.runner.engine.CheckpointWritten;
import dev.trainyard.runner.engine.DataFetcher;
import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.DeviceMemory;
import dev.trainyard.runner.engine.EvalMetrics;
import dev.trainyard.runner.engine.PeerLostException;
import dev.trainyard.runner.engine.PipelineGroup;
import dev.trainyard.runner.engine.ProcessMemory;
import dev.trainyard.runner.engine.StageTime;
import dev.trainyard.runner.engine.StepMetrics;
import dev.trainyard.runner.engine.Trainer;
import dev.trainyard.runner.engine.TrainingDivergedException;
import dev.trainyard.runner.engine.TrainingListener;
import dev.trainyard.runner.engine.TrainingResult;
import dev.trainyard.runner.engine.TrainingRun;
import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.DataAccessPolicy;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.SpecDocument;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Trains one assignment: fetches the checkpoint to resume from, runs the engine with a listener that reports
 * through an {@link AttemptReporter} and stops as its {@link AttemptControl} says, and reports how it ended.
 *
 * <p>An attempt over several runners is one rank per runner: a data-parallel rank holding whole replicas, or,
 * when the scheduler cut one replica's pipeline between runners, a pipeline rank holding some of its stages. Rank 0
 * picks a port for its control TCP store, publishes it through the API and is the only one to report the job's
 * progress (start, metrics, checkpoints, the end); the other ranks wait for that address in their assignment, send
 * log lines, and report only a failure of their own. The engine makes every rank stop at the same step.
 */
final class AttemptRun implements Runnable {
    private static final Logger LOG = Logger.getLogger(AttemptRun.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long rank 0 waits for the other ranks' last shards before it ends a stopped attempt anyway. */
    private static final Duration SHARD_PATIENCE = Duration.ofMinutes(2);

    private final ApiSession session;
    private final Assignment assignment;
    private final Path workDir;
    private final RunnerAgent.Settings settings;
    private final Duration peerLossGrace;
    private final AttemptControl control = new AttemptControl();
    private final AttemptReporter reporter;
    private final RunnerMetrics metrics;
    private final RankRendezvous ranks;
    private volatile boolean ended;

    AttemptRun(
            ApiSession session,
            Assignment assignment,
            Path workDir,
            RunnerAgent.Settings settings,
            Duration peerLossGrace,
            RunnerMetrics metrics) {
        this.peerLossGrace = peerLossGrace;
        this.metrics = metrics;
        this.session = session;
        this.assignment = assignment;
        this.workDir = workDir;
        this.settings = settings;
        this.reporter = new AttemptReporter(session, assignment.getAttemptId(), assignment.getLeaseToken(), control);
        this.ranks = new RankRendezvous(session, assignment, settings, control);
        update(assignment);
    }

    long attemptId() {
        return assignment.getAttemptId();
    }

    /** The API no longer lists this attempt: stop training without reporting anything more. */
    void drop() {
        control.drop();
    }

    boolean dropped() {
        return control.dropped();
    }

    /** True once the attempt's end was reported (or it was dropped): the API forgetting it is expected. */
    boolean ended() {
        return ended || control.dropped();
    }

    /** The assignment as the latest heartbeat lists it: a stop to carry out, rank 0's address. */
    void update(Assignment latest) {
        control.requestStop(latest.getStop());
        ranks.offer(latest.getRendezvous());
    }

    /** The pool's policy the assignment carries; an API that sends none lets the attempt read nothing. */
    private DataAccessPolicy dataAccess() {
        var policy = assignment.getDataAccess();
        if (policy == null) {
            return DataAccessPolicy.none();
        }
        return new DataAccessPolicy(
                policy.getDataRoots(),
                policy.getAllowedHosts(),
                policy.getAllowPrivateNetworks(),
                policy.getMaxDownloadBytes());
    }

    /** The pool's declared peak FLOP/s per device; 0 (no MFU reported) when it declares none. */
    private double peakFlopsPerDevice() {
        Double peak = assignment.getPeakFlopsPerDevice();
        return peak == null ? 0 : peak;
    }

    private boolean isRankZero() {
        return assignment.getRank() == 0;
    }

    private boolean spansRunners() {
        return assignment.getWorldSize() > 1;
    }

    @Override
    public void run() {
        long id = assignment.getAttemptId();
        try {
            JobSpec spec = SpecDocument.parseForTraining(specJson());
            Optional<Path> resume = fetchResumeCheckpoint();
            TrainingRun run = TrainingRun.of(spec, assignment.getGpus(), workDir.resolve("out"))
                    .reportingTo(listener())
                    .stoppingOn(control)
                    .withThreadsPerStage(settings.threadsPerStage())
                    .readingThrough(DataFetcher.under(dataAccess()))
                    .withPeakFlopsPerDevice(peakFlopsPerDevice());
            if (resume.isPresent()) {
                run = run.resumingFrom(resume.get());
            }
            if (spansRunners()) {
                run = ranks.join(run);
            }
            if (isRankZero()) {
                ApiSession.withRetries(
                        () -> session.api().startAttempt(id, new AttemptCall().leaseToken(assignment.getLeaseToken())),
                        Duration.ofMinutes(2));
            }
            reporter.log(prefix() + "attempt " + assignment.getAttemptNumber() + " starting on " + assignment.getGpus()
                    + " device(s)"
                    + replicaNote(spec, run.dataParallel())
                    + stageNote(run.pipeline(), spec.parallelism().tensorParallelOrDefault())
                    + resume.map(p -> ", resuming from " + p.getFileName()).orElse(""));
            TrainingResult result = Trainer.train(run, new TorchEngine());
            if (isRankZero()) {
                result.lastCheckpoint()
                        .filter(CheckpointWritten::sharded)
                        .ifPresent(last -> awaitEveryShard(last.step()));
            }
            if (isRankZero() && result.outcome() == TrainingResult.Outcome.COMPLETED) {
                finishCompleted(result);
            } else if (isRankZero()) {
                finish("STOPPED", null, result.finalStep());
            } else {
                String line = prefix() + "training ended at step " + result.finalStep() + " (" + result.outcome() + ")";
                LOG.info("attempt " + id + ": " + line);
                reporter.log(line);
                reporter.drain(Duration.ofSeconds(30));
            }
        } catch (ApiException e) {
            LOG.log(Level.WARNING, "attempt " + id + " abandoned: the API refused it (" + e.getCode() + ")", e);
        } catch (RuntimeException | IOException | InterruptedException e) {
            if (control.abandoned()) {
                // the platform ended this attempt already (a peer's runner was lost, or this one was fenced)
                LOG.info("attempt " + id + " given up, no longer assigned here: " + e.getMessage());
                return;
            }
            LOG.log(Level.WARNING, "attempt " + id + " failed", e);
            if (PeerLostException.causedBy(e)) {
                // A peer rank is gone. If its runner died, the platform notices within the heartbeat timeout and ends
                // the attempt (this run is then dropped); if its training failed, it reports why. Either way the
                // platform learns more than this rank knows, so it reports a lost peer only if neither happens.
                reporter.log(prefix() + "a peer rank is gone: " + e.getMessage());
                awaitDrop(peerLossGrace);
                finish("LOST", prefix() + e.getMessage(), null);
            } else {
                reporter.log(prefix() + "training failed: " + e);
                finish("FAILED", prefix() + e.getMessage(), null, divergenceOf(e));
            }
        } finally {
            ended = true;
            metrics.ended(id);
            reporter.close();
        }
    }

    private void awaitDrop(Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (!control.abandoned() && System.nanoTime() < deadline) {
            ApiSession.sleep(250);
        }
    }

    /**
     * Which replicas this process holds and its rows of each step's batch: an elastic job on fewer processes holds
     * more replicas each, and the users see from the ranks' lines that the global batch stayed the same.
     */
    private static String replicaNote(JobSpec spec, DataParallelGroup group) {
        if (group.replicas() <= 1) {
            return "";
        }
        int batch = spec.training().batchSize();
        return ", replicas " + group.firstReplica() + "-" + (group.firstReplica() + group.localReplicas() - 1) + " of "
                + group.replicas() + " (" + batch / group.replicas() * group.localReplicas() + " of the batch's "
                + batch + " rows)";
    }

    /** Which stages this process holds when the pipeline spans runners, and on how many devices each. */
    private static String stageNote(PipelineGroup group, int tensorParallel) {
        if (!group.isDistributed()) {
            return "";
        }
        return ", pipeline stages " + group.firstStage() + "-" + (group.endStage() - 1) + " of " + group.stages()
                + " (pipeline rank " + group.rank() + " of " + group.processes() + ")"
                + (tensorParallel == 1 ? "" : ", each stage tensor-parallel over " + tensorParallel + " devices");
    }

    /** Log lines of the other ranks say whose they are. */
    private String prefix() {
        return spansRunners() ? "[rank " + assignment.getRank() + "] " : "";
    }

    private String specJson() throws IOException {
        // the generated client's mapper knows the spec's oneOf types; the engine reads the same JSON
        ObjectNode node = new dev.trainyard.client.JSON().getMapper().valueToTree(assignment.getSpec());
        return JSON.writeValueAsString(node);
    }

    private TrainingListener listener() {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                metrics.step(assignment.getJobId(), assignment.getAttemptId(), m);
                if (!isRankZero()) {
                    return;
                }
                reporter.metric(m.step(), "loss", m.loss());
                reporter.metric(m.step(), "learning_rate", m.learningRate());
                reporter.metric(m.step(), "grad_norm", m.gradNorm());
                reporter.metric(m.step(), "tokens_per_second", m.tokensPerSecond());
                reporter.metric(m.step(), "step_seconds", m.stepSeconds());
                reporter.metric(m.step(), "bubble_fraction", m.bubbleFraction());
                reporter.metric(m.step(), "peak_rss_bytes", m.peakRssBytes());
                m.modelFlopsUtilization().ifPresent(mfu -> reporter.metric(m.step(), "mfu", mfu));
                StageTime.asMetrics(m.stageTimes()).forEach((name, value) -> reporter.metric(m.step(), name, value));
            }

            @Override
            public void onMemory(long step, List<DeviceMemory> devices) {
                if (!isRankZero()) {
                    return;
                }
                // rank 0's devices stand for every replica's: replicas hold the same layout
                boolean ranks = devices.stream().anyMatch(d -> d.rank() > 0);
                for (DeviceMemory d : devices) {
                    String prefix = d.metricPrefix(ranks);
                    reporter.metric(step, prefix + ".plan_bytes", d.planBytes());
                    reporter.metric(step, prefix + ".plan_state_bytes", d.planStateBytes());
                    reporter.metric(step, prefix + ".state_bytes", d.measuredStateBytes());
                    if (d.measuredPeakBytes() > 0) {
                        reporter.metric(step, prefix + ".peak_bytes", d.measuredPeakBytes());
                    }
                }
            }

            @Override
            public void onProcessMemory(long step, ProcessMemory memory) {
                if (!isRankZero() || !memory.measured()) {
                    return;
                }
                // rank 0's process: its devices' activations, planned and measured from its resident memory
                reporter.metric(step, "memory.process.plan_activation_bytes", memory.planActivationBytes());
                reporter.metric(step, "memory.process.activation_bytes", memory.measuredActivationBytes());
            }

            @Override
            public void onEval(EvalMetrics m) {
                if (!isRankZero()) {
                    return;
                }
                reporter.metric(m.step(), "eval_loss", m.evalLoss());
            }

            @Override
            public void onCheckpoint(CheckpointWritten c) {
                reporter.checkpoint(new AttemptReporter.PendingCheckpoint(
                        linkForUpload(c.path()),
                        c.step(),
                        c.sha256(),
                        Double.isFinite(c.evalLoss()) ? c.evalLoss() : null,
                        c.shard(),
                        c.shards()));
            }

            @Override
            public void onLog(String line) {
                // the runner's own log keeps the engine's lines too: a rank's last words can arrive after rank 0
                // ended the attempt, when the API refuses them
                LOG.info("attempt " + assignment.getAttemptId() + ": " + prefix() + line);
                reporter.log(prefix() + line);
            }
        };
    }

    /** A hard link in the outbox, so the engine pruning old checkpoints cannot pull a file from under an upload. */
    private Path linkForUpload(Path file) {
        try {
            Path outbox = Files.createDirectories(workDir.resolve("outbox"));
            Path link = outbox.resolve(file.getFileName());
            Files.deleteIfExists(link);
            try {
                return Files.createLink(link, file);
            } catch (UnsupportedOperationException | IOException e) {
                return Files.copy(file, link, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot stage checkpoint for upload", e);
        }
    }

    /**
     * Downloads the checkpoint to resume from into a store that verifies it against the platform's hash: its file,
     * or every shard of a sharded one (each rank's; restoring needs them all, whatever the new layout). Returns the
     * file, or shard 0, to resume from.
     */
    private Optional<Path> fetchResumeCheckpoint() throws IOException, InterruptedException {
        CheckpointRef ref = assignment.getResumeFrom();
        if (ref == null) {
            return Optional.empty();
        }
        CheckpointStore store = new CheckpointStore(workDir.resolve("resume"));
        if (ref.getShardCount() == null || ref.getShardCount() <= 1) {
            try (InputStream in = download(ref, "")) {
                return Optional.of(store.receive(ref.getStep(), ref.getSha256(), ref.getSizeBytes(), in));
            }
        }
        Path first = null;
        for (CheckpointShard shard : ref.getShards()) {
            try (InputStream in = download(ref, "?shard=" + shard.getShard())) {
                Path file = store.receiveShard(
                        ref.getStep(),
                        shard.getShard(),
                        ref.getShardCount(),
                        shard.getSha256(),
                        shard.getSizeBytes(),
                        in);
                first = shard.getShard() == 0 ? file : first;
            }
        }
        return Optional.ofNullable(first);
    }

    private InputStream download(CheckpointRef ref, String query) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(
                        session.baseUri() + "/api/v1/runner/checkpoints/" + ref.getCheckpointId() + "/content" + query))
                .header("Authorization", "Bearer " + session.token())
                // the platform hands out a checkpoint only to a runner holding a current attempt of its job
                .header("X-Lease-Token", assignment.getLeaseToken())
                .timeout(Duration.ofMinutes(10))
                .GET()
                .build();
        HttpResponse<InputStream> response =
                HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            response.body().close();
            throw new IOException(
                    "checkpoint " + ref.getCheckpointId() + query + " download answered " + response.statusCode());
        }
        return response.body();
    }

    /**
     * Before a data-parallel attempt ends: waits (bounded) until every rank's shard of the last checkpoint has
     * reached the platform, since the others' uploads are refused once the attempt is over (a stopped job would
     * then resume from an older checkpoint). Rank 0's own shard is sent first.
     */
    private void awaitEveryShard(long step) {
        reporter.drain(Duration.ofMinutes(5));
        long deadline = System.nanoTime() + SHARD_PATIENCE.toNanos();
        while (System.nanoTime() < deadline && !control.abandoned()) {
            try {
                if (Boolean.TRUE.equals(session.api()
                        .getAttemptCheckpoint(assignment.getAttemptId(), step, assignment.getLeaseToken())
                        .getComplete())) {
                    return;
                }
            } catch (ApiException e) {
                if (e.getCode() != 404) {
                    LOG.fine("asking for the checkpoint of step " + step + ": " + e.getCode());
                }
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        reporter.log(prefix() + "not every shard of the checkpoint of step " + step + " arrived in time; the job"
                + " resumes from its last complete checkpoint");
    }

    /** Stores the final export through the API, then reports success; a job never SUCCEEDS without its weights. */
    private void finishCompleted(TrainingResult result) {
        Path folder = result.exportedModel().orElseThrow().getParent();
        try {
            int files = ExportUpload.send(session, assignment.getAttemptId(), assignment.getLeaseToken(), folder);
            reporter.log("final export stored by the platform (" + files + " files)");
        } catch (ApiException | IOException e) {
            String why = e instanceof ApiException api ? api.getCode() + " " + api.getResponseBody() : e.toString();
            LOG.warning("attempt " + assignment.getAttemptId() + ": the final export was not stored: " + why);
            finish("FAILED", "the final export could not be stored: " + why, result.finalStep());
            return;
        }
        finish("SUCCEEDED", null, result.finalStep());
    }

    /**
     * Where the loss diverged, when {@code failure} is (or was caused by) a divergence, as the API stores it; null
     * for any other failure. JSON has no NaN or infinity: such a loss is named, not sent as a number.
     */
    static Divergence divergenceOf(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof TrainingDivergedException d) {
                Divergence out = new Divergence().step(d.step());
                return Double.isFinite(d.loss())
                        ? out.loss(d.loss())
                        : out.nonFinite(Divergence.NonFiniteEnum.fromValue(Double.toString(d.loss())));
            }
        }
        return null;
    }

    private void finish(String outcome, String message, Long finalStep) {
        finish(outcome, message, finalStep, null);
    }

    private void finish(String outcome, String message, Long finalStep, Divergence divergence) {
        if (control.abandoned()) {
            return;
        }
        reporter.drain(Duration.ofMinutes(5));
        try {
            ApiSession.withRetries(
                    () -> session.api()
                            .endAttempt(
                                    assignment.getAttemptId(),
                                    new AttemptEnd()
                                            .leaseToken(assignment.getLeaseToken())
                                            .outcome(outcome)
                                            .message(message)
                                            .finalStep(finalStep)
                                            .divergence(divergence)),
                    Duration.ofMinutes(10));
        } catch (ApiException e) {
            LOG.warning("could not report the end of attempt " + assignment.getAttemptId() + ": " + e.getCode());
        }
    }
}
