package dev.trainyard.runner.engine;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.CheckpointPolicy;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ParallelismSpec;
import dev.trainyard.spec.SpecDocument;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Small specs and a recording wrapper around {@link Trainer#train} for engine tests. */
final class EngineRuns {

    private EngineRuns() {}

    /** What a test looks at after a run: the result, each step's loss, the final parameters by name. */
    record Recorded(
            TrainingResult result,
            List<Double> losses,
            List<Double> evalLosses,
            Map<String, float[]> parameters,
            TrainingPlan plan) {}

    static JobSpec tinyGpt(int steps, double dropout) {
        return SpecDocument.parseForTraining("""
        {"name": "tiny-gpt",
         "model": {"type": "gpt", "layers": 2, "dModel": 32, "heads": 4, "seqLen": 16, "vocab": 128,
                   "dropout": %s},
         "data": {"type": "arithmetic", "seed": 3, "evalFraction": 0.1},
         "training": {"steps": %d, "batchSize": 8, "learningRate": 0.003, "minLearningRate": 0.0003,
                      "warmupSteps": %d, "weightDecay": 0.01, "gradClip": 1.0, "seed": 11, "evalEvery": 0},
         "parallelism": {"microBatches": 1, "schedule": "1f1b", "balance": "params"}}
        """.formatted(dropout, steps, Math.min(2, steps)));
    }

    static JobSpec withPipeline(JobSpec spec, int stages, int microBatches, String schedule, boolean recompute) {
        return spec.withParallelism(new ParallelismSpec(stages, microBatches, schedule, recompute, 1, "params"));
    }

    /** {@code tensorParallel} devices per stage, Megatron-style. */
    static JobSpec withTensorParallel(JobSpec spec, int tensorParallel, int stages, int microBatches, String schedule) {
        return withTensorParallel(spec, tensorParallel, stages, microBatches, schedule, false);
    }

    static JobSpec withTensorParallel(
            JobSpec spec, int tensorParallel, int stages, int microBatches, String schedule, boolean recompute) {
        return spec.withParallelism(
                new ParallelismSpec(stages, microBatches, schedule, recompute, 1, "params", tensorParallel, null));
    }

    /** Any layout: {@code tensorParallel} x {@code stages} devices per replica, {@code dataParallel} replicas. */
    static JobSpec withLayout(
            JobSpec spec,
            int tensorParallel,
            int stages,
            int dataParallel,
            int zero,
            int microBatches,
            String schedule) {
        return spec.withParallelism(new ParallelismSpec(
                stages, microBatches, schedule, false, dataParallel, "params", tensorParallel, zero));
    }

    static JobSpec withCheckpointEvery(JobSpec spec, int every) {
        return spec.withCheckpoint(new CheckpointPolicy(every, 10, false));
    }

    static Recorded train(JobSpec spec, Path out) {
        return train(spec, out, Optional.empty(), StopSignal.never());
    }

    static Recorded train(JobSpec spec, Path out, Optional<Path> resume, StopSignal stop) {
        List<Double> losses = new ArrayList<>();
        List<Double> evalLosses = new ArrayList<>();
        TrainingPlan[] plan = new TrainingPlan[1];
        TrainingListener recorder = new TrainingListener() {
            @Override
            public void onPlan(TrainingPlan p) {
                plan[0] = p;
            }

            @Override
            public void onStep(StepMetrics metrics) {
                losses.add(metrics.loss());
            }

            @Override
            public void onEval(EvalMetrics metrics) {
                evalLosses.add(metrics.evalLoss());
            }
        };
        int devices =
                (spec.parallelism().stages() == null ? 1 : spec.parallelism().stages())
                        * spec.parallelism().tensorParallelOrDefault();
        TrainingRun run = TrainingRun.of(spec, devices, out)
                .withThreadsPerStage(1)
                .reportingTo(recorder)
                .stoppingOn(stop);
        if (resume.isPresent()) {
            run = run.resumingFrom(resume.get());
        }
        TrainingResult result = Trainer.train(run, new TorchEngine());
        Path weights = result.exportedModel()
                .orElseGet(() -> result.lastCheckpoint().orElseThrow().path());
        return new Recorded(result, losses, evalLosses, parametersIn(weights), plan[0]);
    }

    /**
     * One run of {@code spec} as {@code parallelism.dataParallel} processes, one replica each: a session per
     * rank on its own thread in this JVM, each with its own stores (Gloo over the loopback), as separate runner
     * processes would be. Returns what rank 0 recorded and exported (the other ranks hold identical weights).
     */
    static Recorded trainAsProcesses(JobSpec spec, Path out, Optional<Path> resume, StopSignal stop) {
        return trainAsProcesses(spec, spec.parallelism().dataParallel(), out, resume, stop);
    }

    /**
     * As above, with the spec's replicas held by {@code processes} processes, each holding as many consecutive
     * replicas (with the devices for them, as the platform grants a runner with room for several).
     */
    static Recorded trainAsProcesses(JobSpec spec, int processes, Path out, Optional<Path> resume, StopSignal stop) {
        if (processes == 1) {
            return train(spec, out, resume, stop);
        }
        int replicas = spec.parallelism().dataParallel();
        int held = replicas / processes;
        if (held * processes != replicas) {
            throw new IllegalArgumentException(replicas + " replicas do not split evenly over " + processes);
        }
        int devices = spec.parallelism().stages() * spec.parallelism().tensorParallelOrDefault() * held;
        int port;
        try {
            port = StorePorts.free();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Double> losses = new ArrayList<>();
        TrainingPlan[] plan = new TrainingPlan[1];
        // its own threads: the common pool may have one, and the ranks must run at once
        ExecutorService threads = Executors.newFixedThreadPool(processes);
        List<CompletableFuture<TrainingResult>> ranks = new ArrayList<>();
        for (int rank = 0; rank < processes; rank++) {
            TrainingListener recorder = rank != 0
                    ? new TrainingListener() {}
                    : new TrainingListener() {
                        @Override
                        public void onPlan(TrainingPlan p) {
                            plan[0] = p;
                        }

                        @Override
                        public void onStep(StepMetrics metrics) {
                            losses.add(metrics.loss());
                        }
                    };
            // a rank that fails leaves its peers waiting: a short timeout lets them fail too, in time
            DataParallelGroup group = new DataParallelGroup(
                    rank, processes, rank * held, held, replicas, "127.0.0.1", port, Duration.ofSeconds(90));
            TrainingRun run = TrainingRun.of(spec, devices, out.resolve("rank" + rank))
                    .withThreadsPerStage(1)
                    .reportingTo(recorder)
                    .stoppingOn(stop)
                    .asReplica(group);
            TrainingRun configured = resume.map(run::resumingFrom).orElse(run);
            ranks.add(CompletableFuture.supplyAsync(() -> Trainer.train(configured, new TorchEngine()), threads));
        }
        try {
            // the first rank to fail reports its own error, rather than its peers a timeout
            List<CompletableFuture<?>> anyFailure = new ArrayList<>();
            anyFailure.add(CompletableFuture.allOf(ranks.toArray(CompletableFuture[]::new)));
            ranks.forEach(r -> anyFailure.add(r.thenCompose(done -> new CompletableFuture<>())));
            CompletableFuture.anyOf(anyFailure.toArray(CompletableFuture[]::new))
                    .get(3, TimeUnit.MINUTES);
            TrainingResult result = collectShards(ranks.get(0).get(), processes, out);
            Path weights = result.exportedModel()
                    .orElseGet(() -> result.lastCheckpoint().orElseThrow().path());
            return new Recorded(result, losses, List.of(), parametersIn(weights), plan[0]);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException | IOException e) {
            throw new IllegalStateException("data-parallel run failed: " + e.getMessage(), e);
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * Where the ranks wrote a sharded checkpoint, each into its own folder: gathers every rank's shard of rank 0's
     * last checkpoint into {@code into} (see {@link #collectStep}) and returns rank 0's result pointing there.
     */
    static TrainingResult collectShards(TrainingResult rankZero, int processes, Path out) throws IOException {
        Optional<CheckpointWritten> last = rankZero.lastCheckpoint();
        if (last.isEmpty() || !last.get().sharded()) {
            return rankZero;
        }
        List<Path> rankDirs = new ArrayList<>();
        for (int rank = 0; rank < processes; rank++) {
            rankDirs.add(out.resolve("rank" + rank));
        }
        CheckpointWritten w = last.get();
        CheckpointWritten collected = new CheckpointWritten(
                collectStep(rankDirs, w.step(), out.resolve("collected")),
                w.step(),
                w.sha256(),
                w.bytes(),
                w.evalLoss(),
                w.shard(),
                w.shards());
        return new TrainingResult(
                rankZero.outcome(),
                rankZero.finalStep(),
                rankZero.lastLoss(),
                rankZero.lastEvalLoss(),
                Optional.of(collected),
                rankZero.exportedModel());
    }

    /**
     * Copies the shards (data and manifest) of the checkpoint of {@code step} from each rank's output folder into
     * {@code into}, as the platform hands them to a resuming run, and returns shard 0 there.
     */
    static Path collectStep(List<Path> rankOutputs, long step, Path into) throws IOException {
        java.nio.file.Files.createDirectories(into);
        String prefix = String.format("step-%08d.shard-", step);
        Path first = null;
        for (Path dir : rankOutputs) {
            try (var files = java.nio.file.Files.list(dir.resolve("checkpoints"))) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith(prefix))
                        .toList()) {
                    Path copy = java.nio.file.Files.copy(
                            f, into.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    if (f.getFileName().toString().startsWith(prefix + "0-")
                            && f.toString().endsWith(".safetensors")) {
                        first = copy;
                    }
                }
            }
        }
        if (first == null) {
            throw new AssertionError("no shard 0 of step " + step + " under " + rankOutputs);
        }
        return first;
    }

    /** Parameters by name from an exported model or a checkpoint (whose names carry a "param/" prefix). */
    static Map<String, float[]> parametersIn(Path safetensors) {
        if (ShardedCheckpoint.isShard(safetensors)) {
            Map<String, float[]> params = new LinkedHashMap<>();
            CheckpointStore.load(safetensors).parameters().forEach(t -> params.put(t.name(), t.data()));
            return params;
        }
        try {
            Map<String, float[]> params = new LinkedHashMap<>();
            for (HostTensor t : SafetensorsFormat.read(safetensors).tensors()) {
                if (!t.name().startsWith("adamw.")) {
                    params.put(t.name().replace("param/", ""), t.data());
                }
            }
            return params;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static double maxAbsDifference(Map<String, float[]> a, Map<String, float[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            throw new AssertionError("parameter names differ: " + a.keySet() + " vs " + b.keySet());
        }
        double max = 0;
        for (String name : a.keySet()) {
            float[] x = a.get(name);
            float[] y = b.get(name);
            for (int i = 0; i < x.length; i++) {
                max = Math.max(max, Math.abs(x[i] - y[i]));
            }
        }
        return max;
    }

    static boolean bitwiseEqual(Map<String, float[]> a, Map<String, float[]> b) {
        return a.keySet().equals(b.keySet())
                && a.keySet().stream().allMatch(name -> java.util.Arrays.equals(a.get(name), b.get(name)));
    }
}
