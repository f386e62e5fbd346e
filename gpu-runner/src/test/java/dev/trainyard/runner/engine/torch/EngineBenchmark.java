package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.CheckpointReader;
import dev.trainyard.runner.engine.CheckpointState;
import dev.trainyard.runner.engine.CheckpointStore;
import dev.trainyard.runner.engine.CheckpointWritten;
import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.DeviceMemory;
import dev.trainyard.runner.engine.ModelShard;
import dev.trainyard.runner.engine.ModelState;
import dev.trainyard.runner.engine.PipelineGroup;
import dev.trainyard.runner.engine.ProcessMemory;
import dev.trainyard.runner.engine.ShardedCheckpoint;
import dev.trainyard.runner.engine.StageTime;
import dev.trainyard.runner.engine.StepMetrics;
import dev.trainyard.runner.engine.StopRequest;
import dev.trainyard.runner.engine.StopSignal;
import dev.trainyard.runner.engine.StorePorts;
import dev.trainyard.runner.engine.TensorRegion;
import dev.trainyard.runner.engine.Trainer;
import dev.trainyard.runner.engine.TrainingListener;
import dev.trainyard.runner.engine.TrainingRun;
import dev.trainyard.spec.CheckpointPolicy;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ModelLayout;
import dev.trainyard.spec.ModelSpec;
import dev.trainyard.spec.ParallelismSpec;
import dev.trainyard.spec.SpecDocument;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Throughput, pipeline efficiency and checkpoint cost of the engine on this machine; prints Markdown.
 * Run on demand (not by surefire): {@code ./mvnw -q -f gpu-runner/pom.xml test-compile exec:exec@benchmark}.
 */
public final class EngineBenchmark {

    private static final int WARMUP_STEPS = 2;

    private EngineBenchmark() {}

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(System.getProperty("bench.threads", "2"));
        Path work = Files.createTempDirectory("engine-bench");
        try {
            System.out.printf(
                    "CPU cores: %d; OMP_WAIT_POLICY=%s OPENBLAS_NUM_THREADS=%s%n%n",
                    Runtime.getRuntime().availableProcessors(),
                    System.getenv("OMP_WAIT_POLICY"),
                    System.getenv("OPENBLAS_NUM_THREADS"));
            String sections = System.getProperty(
                    "bench.sections",
                    "throughput,pipeline,checkpoint,dataparallel,tensorparallel,zero,stagesplit,crossstage");
            if (sections.contains("throughput")) {
                throughput(work, threads);
            }
            if (sections.contains("pipeline")) {
                pipelineEfficiency(work);
            }
            if (sections.contains("checkpoint")) {
                checkpointCost(work);
            }
            if (sections.contains("dataparallel")) {
                gradientAveraging();
            }
            if (sections.contains("tensorparallel")) {
                tensorParallel(work, threads);
            }
            if (sections.contains("zero")) {
                zeroSharding(work);
            }
            if (sections.contains("memory")) {
                peakMemory(work, System.getProperty("bench.memory.layout", "1f1b"));
            }
            if (sections.contains("stagesplit")) {
                stageSplit(work);
            }
            if (sections.contains("sweep")) {
                sweep(work);
            }
            if (sections.contains("crossstage")) {
                crossStage(work, sections.contains("crossstage-25m"));
            }
            if (sections.contains("shardio")) {
                shardedCheckpointIo(work);
            }
        } finally {
            deleteRecursively(work);
        }
    }

    // 1. Tokens/s and achieved FLOP/s against the matmul rate at the same thread count. The machine's speed
    // drifts (shared cores), so each round probes matmul right before training; rows give medians over rounds
    // of the per-round figures.
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);

    private static void throughput(Path work, int threads) {
        System.out.println("| model | params | threads | tokens/s | achieved GFLOP/s | matmul GFLOP/s | ratio |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int t : new int[] {1, threads}) {
            NativeRuntime.configureThread(t);
            for (String name : new String[] {"gpt-3M", "gpt-25M"}) {
                JobSpec spec = name.equals("gpt-3M")
                        ? gpt(4, 256, 4, 128, 16, 6, 1, 1, "1f1b")
                        : gpt(8, 512, 8, 128, 8, 4, 1, 1, "1f1b");
                ModelSpec.Gpt gpt = (ModelSpec.Gpt) spec.model();
                long params = ModelLayout.of(gpt).parameters();
                double flopsPerToken = 6.0 * params + 12.0 * gpt.layers() * gpt.seqLen() * gpt.dModel();
                List<Double> matmuls = new ArrayList<>();
                List<Double> tokens = new ArrayList<>();
                List<Double> ratios = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    double matmul = MatmulProbe.gflops(2048, 3);
                    double tps = median(train(work, spec, 1, t).stream()
                            .map(StepMetrics::tokensPerSecond)
                            .toList());
                    matmuls.add(matmul);
                    tokens.add(tps);
                    ratios.add(tps * flopsPerToken / 1e9 / matmul);
                }
                double tps = median(tokens);
                System.out.printf(
                        "| %s | %.2fM | %d | %.0f | %.1f | %.1f | %.0f%% |%n",
                        name, params / 1e6, t, tps, tps * flopsPerToken / 1e9, median(matmuls), 100 * median(ratios));
            }
        }
        System.out.println();
    }

    // 2. Two stages on two CPU devices (one thread each) against one device, per micro-batch count. Wall
    // figures suffer from other processes on the cores; the CPU-time model (ideal pipeline step from each
    // stage thread's CPU time) shows what two dedicated cores would do.
    private static void pipelineEfficiency(Path work) {
        System.out.println("| micro-batches | 1 device s | 2 stages s | ideal s | efficiency | bubble | speedup "
                + "| 1 device CPU s | slowest stage CPU s | CPU-model 2-stage s | CPU-model speedup |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        List<StepMetrics> one = train(work, gpt(4, 256, 4, 128, 32, 6, 1, 1, "1f1b"), 1, 1);
        double single = median(one.stream().map(StepMetrics::stepSeconds).toList());
        double singleCpu =
                median(one.stream().map(s -> s.stageCpuSeconds().get(0)).toList());
        for (int m : new int[] {1, 2, 4, 8, 16}) {
            List<StepMetrics> steps = train(work, gpt(4, 256, 4, 128, 32, 6, 2, m, "1f1b"), 2, 1);
            double step = median(steps.stream().map(StepMetrics::stepSeconds).toList());
            double slowestStage =
                    median(steps.stream().map(s -> max(s.stageBusySeconds())).toList());
            double slowestCpu =
                    median(steps.stream().map(s -> max(s.stageCpuSeconds())).toList());
            double fill = (m + 2 - 1) / (double) m;
            double ideal = fill * slowestStage;
            double bubble =
                    median(steps.stream().map(StepMetrics::bubbleFraction).toList());
            System.out.printf(
                    "| %d | %.3f | %.3f | %.3f | %.0f%% | %.0f%% | %.2fx | %.3f | %.3f | %.3f | %.2fx |%n",
                    m,
                    single,
                    step,
                    ideal,
                    100 * ideal / step,
                    100 * bubble,
                    single / step,
                    singleCpu,
                    slowestCpu,
                    fill * slowestCpu,
                    singleCpu / (fill * slowestCpu));
        }
        System.out.println();
    }

    // 7. The memory plan against the process's peak resident memory (VmHWM, reset before the first step) above what
    // it held then, for one layout (gpipe, 1f1b or recompute) of a 2-stage gpt with 8 micro-batches, whose
    // activations dominate. One layout per JVM: glibc keeps freed memory, so a second run in the same process would
    // start from the first one's heap. The loop's own log line carries both figures.
    private static void peakMemory(Path work, String layout) {
        String schedule = layout.equals("gpipe") ? "gpipe" : "1f1b";
        boolean recompute = layout.equals("recompute");
        JobSpec spec = SpecDocument.parseForTraining("""
        {"name": "memory",
         "model": {"type": "gpt", "layers": 4, "dModel": 128, "heads": 4, "seqLen": 128, "vocab": 128},
         "data": {"type": "arithmetic", "seed": 3, "evalFraction": 0.1},
         "training": {"steps": 3, "batchSize": 64, "seed": 11, "evalEvery": 0},
         "parallelism": {"stages": 2, "microBatches": 8, "schedule": "%s", "recompute": %s, "balance": "params"}}
        """.formatted(schedule, recompute));
        TrainingListener printer = new TrainingListener() {
            @Override
            public void onLog(String line) {
                if (line.startsWith("memory: plan estimate")) {
                    System.out.println("| " + layout + " | " + line.substring("memory: ".length()) + " |");
                }
            }
        };
        Trainer.train(
                TrainingRun.of(spec, 2, work.resolve("memory-" + layout))
                        .withThreadsPerStage(1)
                        .reportingTo(printer),
                new TorchEngine());
    }

    // 10. Memory per device and step time of the largest GPT that fits here (about 100M parameters: 8 layers of
    // d 1024, context 64, batch 4, 1F1B over 2 micro-batches) over the layouts (t, p, d) in {1, 2}^3, ZeRO 0 to 3
    // where d = 2, one thread per device (bench.sweep.layers and bench.sweep.dModel give a smaller model for a quick
    // look; bench.sweep.layouts, e.g. "*.*.2.0,*.*.2.1", runs only the layouts t.p.d.zero it lists, * for any
    // value). Two steps each (the first allocates gradients and moments; the second is
    // timed and its activations measured), stopped without a checkpoint. Per layout, the fullest device: the plan's
    // training state beside what its tensors held, and the plan's activations; then the activations of every device
    // of this JVM (both replicas where d = 2, which run as two sessions here) beside the JVM's resident rise in the
    // second step, which follows the live tensors only when MALLOC_MMAP_THRESHOLD_ is set (see ResidentMemory).
    private static final int SWEEP_LAYERS = Integer.getInteger("bench.sweep.layers", 8);
    private static final int SWEEP_WIDTH = Integer.getInteger("bench.sweep.dModel", 1024);
    private static final String SWEEP_LAYOUTS = System.getProperty("bench.sweep.layouts", "*.*.*.*");

    private static void sweep(Path work) throws Exception {
        NativeRuntime.configureThread(1);
        System.out.println("| t | p | d | zero | devices | plan state MiB (fullest device) | measured state MiB "
                + "| plan activations MiB (that device) | plan activations MiB (this JVM) | measured rise MiB (this JVM) "
                + "| step 2 s |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int d = 1; d <= 2; d++) {
            for (int t = 1; t <= 2; t++) {
                for (int p = 1; p <= 2; p++) {
                    for (int zero = 0; zero <= (d == 1 ? 0 : 3); zero++) {
                        if (sweepSelects(t, p, d, zero)) {
                            sweepLayout(work, t, p, d, zero);
                        }
                    }
                }
            }
        }
        System.out.println();
    }

    /** Whether one of {@link #SWEEP_LAYOUTS}' patterns (t.p.d.zero, each a number or *) matches the layout. */
    private static boolean sweepSelects(int t, int p, int d, int zero) {
        int[] layout = {t, p, d, zero};
        for (String pattern : SWEEP_LAYOUTS.split(",")) {
            String[] fields = pattern.trim().split("\\.");
            boolean matches = fields.length == layout.length;
            for (int i = 0; matches && i < layout.length; i++) {
                matches = fields[i].equals("*") || fields[i].equals(Integer.toString(layout[i]));
            }
            if (matches) {
                return true;
            }
        }
        return false;
    }

    private static void sweepLayout(Path work, int t, int p, int d, int zero) throws Exception {
        JobSpec spec = SpecDocument.parseForTraining("""
        {"name": "sweep",
         "model": {"type": "gpt", "layers": %d, "dModel": %d, "heads": 16, "seqLen": 64, "vocab": 256},
         "data": {"type": "arithmetic", "seed": 1},
         "training": {"steps": 3, "batchSize": 4, "learningRate": 0.001, "seed": 1, "evalEvery": 0},
         "checkpoint": {"everySteps": 1000},
         "parallelism": {"stages": %d, "tensorParallel": %d, "dataParallel": %d, "zero": %d, "microBatches": 2,
                         "schedule": "1f1b", "balance": "params"}}
        """.formatted(SWEEP_LAYERS, SWEEP_WIDTH, p, t, d, zero));
        List<DeviceMemory> devices = new CopyOnWriteArrayList<>();
        List<ProcessMemory> processes = new CopyOnWriteArrayList<>();
        List<Double> stepSeconds = new CopyOnWriteArrayList<>();
        IntFunction<TrainingListener> recorder = rank -> new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                if (rank == 0 && metrics.step() == 2) {
                    stepSeconds.add(metrics.stepSeconds());
                }
            }

            @Override
            public void onMemory(long step, List<DeviceMemory> measured) {
                devices.addAll(measured);
            }

            @Override
            public void onProcessMemory(long step, ProcessMemory memory) {
                processes.add(memory);
            }
        };
        StopSignal afterTwoSteps = steps -> steps >= 2 ? StopRequest.STOP : StopRequest.CONTINUE;
        int perReplica = t * p;
        Path out = work.resolve("sweep");
        if (d == 1) {
            Trainer.train(
                    TrainingRun.of(spec, perReplica, out)
                            .withThreadsPerStage(1)
                            .stoppingOn(afterTwoSteps)
                            .reportingTo(recorder.apply(0)),
                    new TorchEngine());
        } else {
            trainReplicas(out, spec, perReplica, afterTwoSteps, recorder);
        }
        deleteRecursively(out);
        DeviceMemory fullest = devices.stream()
                .max(Comparator.comparingLong(DeviceMemory::planBytes))
                .orElseThrow();
        long planActivations =
                processes.stream().mapToLong(ProcessMemory::planActivationBytes).sum();
        long rise = processes.stream()
                .mapToLong(ProcessMemory::measuredActivationBytes)
                .max()
                .orElse(-1);
        double mib = 1024.0 * 1024.0;
        System.out.printf(
                "| %d | %d | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |%n",
                t,
                p,
                d,
                zero,
                perReplica * d,
                fullest.planStateBytes() / mib,
                fullest.measuredStateBytes() / mib,
                fullest.planActivationBytes() / mib,
                planActivations / mib,
                rise / mib,
                stepSeconds.isEmpty() ? Double.NaN : stepSeconds.get(0));
    }

    /** Two data-parallel replicas as two sessions of this JVM joined through a TCP store, as the tests run them. */
    private static void trainReplicas(
            Path out, JobSpec spec, int devicesPerReplica, StopSignal stop, IntFunction<TrainingListener> listeners)
            throws Exception {
        int port = StorePorts.free();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<CompletableFuture<?>> ranks = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                TrainingRun run = TrainingRun.of(spec, devicesPerReplica, out.resolve("rank" + rank))
                        .withThreadsPerStage(1)
                        .asReplica(DataParallelGroup.evenly(rank, 2, "127.0.0.1", port))
                        .stoppingOn(stop)
                        .reportingTo(listeners.apply(rank));
                ranks.add(CompletableFuture.runAsync(() -> Trainer.train(run, new TorchEngine()), threads));
            }
            for (CompletableFuture<?> rank : ranks) {
                rank.get();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }

    // 3. Checkpoints of gpt-25M, one after every step: how long training pauses for each (copying the state
    // into Java memory between steps) and when the write (safetensors + SHA-256 + fsync + rename, on the writer
    // thread) completes after its step; then a verified load (digest check + parse).
    private static void checkpointCost(Path work) throws IOException {
        NativeRuntime.configureThread(1);
        JobSpec spec = gpt(8, 512, 8, 128, 8, 4, 1, 1, "1f1b").withCheckpoint(new CheckpointPolicy(1, 2, false));
        Map<Long, Long> stepEnds = new ConcurrentHashMap<>();
        List<Double> pauses = new ArrayList<>();
        List<Double> writes = new CopyOnWriteArrayList<>();
        long[] bytes = new long[1];
        Path out = work.resolve("checkpoint");
        Trainer.train(
                TrainingRun.of(spec, 1, out).withThreadsPerStage(1).reportingTo(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics metrics) {
                        long now = System.nanoTime();
                        Long previous = stepEnds.get(metrics.step() - 1);
                        if (previous != null && metrics.step() > WARMUP_STEPS) {
                            // the time between two steps' ends, less the second step's own training time
                            pauses.add((now - previous) / 1e9 - metrics.stepSeconds());
                        }
                        stepEnds.put(metrics.step(), now);
                    }

                    @Override
                    public void onCheckpoint(CheckpointWritten written) {
                        bytes[0] = written.bytes();
                        writes.add((System.nanoTime() - stepEnds.get(written.step())) / 1e9);
                    }
                }),
                new TorchEngine());
        Path file = new CheckpointStore(out.resolve("checkpoints")).latest().orElseThrow();
        long start = System.nanoTime();
        CheckpointStore.load(file);
        double load = (System.nanoTime() - start) / 1e9;
        System.out.println("| model | checkpoint size | training pause s | written after s | verified load s |");
        System.out.println("| --- | ---: | ---: | ---: | ---: |");
        System.out.printf(
                "| gpt-25M | %.1f MB | %.2f | %.2f | %.2f |%n", bytes[0] / 1e6, median(pauses), median(writes), load);
        System.out.println();
    }

    // 4. Averaging a whole model's gradients between two data-parallel ranks (two Gloo groups in this JVM, over
    // loopback): one collective per parameter against the bucketed path the engine uses. Both ranks run on this
    // machine's cores, so the figures are the collectives' own cost, not a network's.
    private static void gradientAveraging() throws IOException {
        NativeRuntime.configureThread(1);
        System.out.println("| model | tensors | floats | per-parameter ms | bucketed ms | speedup |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
        int port = StorePorts.free();
        CompletableFuture<ReplicaGroup> other = CompletableFuture.supplyAsync(
                () -> new ReplicaGroup(DataParallelGroup.evenly(1, 2, "127.0.0.1", port), 1, () -> false));
        ReplicaGroup zero = new ReplicaGroup(DataParallelGroup.evenly(0, 2, "127.0.0.1", port), 1, () -> false);
        ReplicaGroup one = other.join();
        for (String name : new String[] {"gpt-3M", "gpt-25M"}) {
            JobSpec spec = name.equals("gpt-3M")
                    ? gpt(4, 256, 4, 128, 16, 1, 1, 1, "1f1b")
                    : gpt(8, 512, 8, 128, 8, 1, 1, 1, "1f1b");
            try (PointerScope scope = new PointerScope()) {
                List<List<Tensor>> grads = new ArrayList<>();
                for (int rank = 0; rank < 2; rank++) {
                    List<Tensor> mine = new ArrayList<>();
                    ModelFactory.build(spec.model(), 1)
                            .forEach(
                                    b -> b.parameters().values().forEach(p -> mine.add(torch.randn(Tensors.shape(p)))));
                    grads.add(mine);
                }
                long floats = grads.get(0).stream().mapToLong(Tensor::numel).sum();
                List<Double> perParameter = new ArrayList<>();
                List<Double> bucketed = new ArrayList<>();
                for (int round = 0; round < 7; round++) {
                    perParameter.add(bothRanks(
                            () -> grads.get(0).forEach(g -> zero.average(0, g)),
                            () -> grads.get(1).forEach(g -> one.average(0, g))));
                    bucketed.add(
                            bothRanks(() -> zero.averageAll(0, grads.get(0)), () -> one.averageAll(0, grads.get(1))));
                }
                double a = median(perParameter);
                double b = median(bucketed);
                System.out.printf(
                        "| %s | %d | %.1fM | %.1f | %.1f | %.1fx |%n",
                        name, grads.get(0).size(), floats / 1e6, a * 1e3, b * 1e3, a / b);
            }
        }
        System.out.println();
    }

    /** Seconds until both ranks finished their part (rank 1's on another thread). */
    // 5. ZeRO: two data-parallel ranks in this JVM (Gloo over loopback, one thread each) train at zero 0, 1, 2 and
    // 3. Per rank: the AdamW bytes it holds, as the engine measures them from its moment tensors, the parameter
    // bytes its tensors hold between steps, the most parameter bytes it held whole at once during a step (ZeRO 3
    // gathers block by block: its largest block's), the peak of its training state in a step (parameters, gradients,
    // moments; measured from the tensors), the median step time after warm-up and how much of it rank 0's stage spent
    // in collectives (started and waited for; at ZeRO 3 the gathers and reduce-scatters not hidden behind compute).
    // bench.zero.models (gpt-3M,gpt-25M) and bench.zero.levels (0,1,2,3) select rows.
    private static final List<String> ZERO_MODELS =
            List.of(System.getProperty("bench.zero.models", "gpt-3M,gpt-25M").split(","));

    private static final List<String> ZERO_LEVELS =
            List.of(System.getProperty("bench.zero.levels", "0,1,2,3").split(","));
    private static final java.util.regex.Pattern STATE_LINE =
            java.util.regex.Pattern.compile("AdamW state on this process: (\\d+) bytes .*unsharded (\\d+) bytes");

    private static final java.util.regex.Pattern PARAMETERS_LINE = java.util.regex.Pattern.compile(
            "parameters on this process between steps: (\\d+) bytes \\(whole (\\d+) bytes\\)");

    private static final java.util.regex.Pattern WHOLE_DURING_STEP_LINE = java.util.regex.Pattern.compile(
            "whole parameters held at once during a step: (\\d+) bytes per stage at most");

    private static void zeroSharding(Path work) throws Exception {
        System.out.println("| model | params | zero | AdamW MiB per rank | of unsharded | parameter MiB per rank"
                + " between steps | of whole | whole parameter MiB at once in a step | state peak MiB per rank"
                + " (plan) | step s (median) | comm s (median) |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (String name : ZERO_MODELS) {
            JobSpec base = name.equals("gpt-3M")
                    ? gpt(4, 256, 4, 128, 16, 4, 1, 1, "1f1b")
                    : gpt(8, 512, 8, 128, 8, 3, 1, 1, "1f1b");
            long params = ModelLayout.of(base.model()).parameters();
            for (int zero = 0; zero <= 3; zero++) {
                if (!ZERO_LEVELS.contains(Integer.toString(zero))) {
                    continue;
                }
                JobSpec spec = base.withParallelism(new ParallelismSpec(1, 1, "1f1b", false, 2, "params", null, zero));
                List<String> log = new CopyOnWriteArrayList<>();
                List<DeviceMemory> memory = new CopyOnWriteArrayList<>();
                List<StepMetrics> steps = trainOnTwoRanks(work, spec, log, memory);
                java.util.regex.Matcher state = firstMatch(log, STATE_LINE);
                long held = Long.parseLong(state.group(1));
                long whole = Long.parseLong(state.group(2));
                java.util.regex.Matcher parameters = firstMatch(log, PARAMETERS_LINE);
                long heldParameters = Long.parseLong(parameters.group(1));
                long wholeParameters = Long.parseLong(parameters.group(2));
                long wholeAtOnce =
                        Long.parseLong(firstMatch(log, WHOLE_DURING_STEP_LINE).group(1));
                DeviceMemory last = memory.get(memory.size() - 1);
                System.out.printf(
                        "| %s | %.2fM | %d | %.1f | %.3f | %.1f | %.3f | %.1f | %.1f (%.1f) | %.3f | %.3f |%n",
                        name,
                        params / 1e6,
                        zero,
                        held / (1024.0 * 1024.0),
                        held / (double) whole,
                        heldParameters / (1024.0 * 1024.0),
                        heldParameters / (double) wholeParameters,
                        wholeAtOnce / (1024.0 * 1024.0),
                        last.measuredStateBytes() / (1024.0 * 1024.0),
                        last.planStateBytes() / (1024.0 * 1024.0),
                        median(steps.stream().map(StepMetrics::stepSeconds).toList()),
                        median(steps.stream()
                                .map(m -> m.stageTimes().get(0).communicationSeconds())
                                .toList()));
            }
        }
        System.out.println();
    }

    // 7. Where each stage's step goes (compute, pipeline bubble, communication; the engine's own split, medians over
    // the steps after warm-up) for 2 stages at 4 micro-batches, GPipe against 1F1B, and for two data-parallel ranks
    // of one stage each (Gloo in this JVM). MFU is against the 1-thread matmul rate measured just before, as if a
    // pool declared that as each device's peak.
    private static void stageSplit(Path work) throws Exception {
        NativeRuntime.configureThread(1);
        double peak = MatmulProbe.gflops(2048, 3) * 1e9;
        System.out.printf("peak per device taken as the 1-thread matmul rate: %.1f GFLOP/s%n%n", peak / 1e9);
        System.out.println(
                "| layout | stage | compute ms | bubble ms | comm ms | unaccounted ms | stage wall ms | step ms "
                        + "| MFU |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        JobSpec base = gpt(4, 256, 4, 128, 16, 6, 2, 4, "gpipe");
        for (String schedule : new String[] {"gpipe", "1f1b"}) {
            JobSpec spec = base.withParallelism(new ParallelismSpec(2, 4, schedule, false, 1, "time"));
            List<StepMetrics> steps = new ArrayList<>();
            Path out = work.resolve("split-" + schedule);
            Trainer.train(
                    TrainingRun.of(spec, 2, out)
                            .withThreadsPerStage(1)
                            .withPeakFlopsPerDevice(peak)
                            .reportingTo(new TrainingListener() {
                                @Override
                                public void onStep(StepMetrics metrics) {
                                    if (metrics.step() > WARMUP_STEPS) {
                                        steps.add(metrics);
                                    }
                                }
                            }),
                    new TorchEngine());
            deleteRecursively(out);
            printSplit("2 stages, " + schedule + ", m = 4", steps);
        }
        JobSpec replicated = base.withParallelism(new ParallelismSpec(1, 1, "1f1b", false, 2, "params"));
        printSplit("1 stage x 2 data-parallel ranks", trainOnTwoRanks(work, replicated, new CopyOnWriteArrayList<>()));
        System.out.println();
    }

    private static void printSplit(String layout, List<StepMetrics> steps) {
        int stages = steps.get(0).stageTimes().size();
        for (int s = 0; s < stages; s++) {
            int stage = s;
            java.util.function.Function<java.util.function.ToDoubleFunction<StageTime>, Double> ms = part -> 1000
                    * median(steps.stream()
                            .map(m -> part.applyAsDouble(m.stageTimes().get(stage)))
                            .toList());
            System.out.printf(
                    "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %s |%n",
                    layout,
                    s,
                    ms.apply(StageTime::computeSeconds),
                    ms.apply(StageTime::bubbleSeconds),
                    ms.apply(StageTime::communicationSeconds),
                    ms.apply(StageTime::unaccountedSeconds),
                    ms.apply(StageTime::wallSeconds),
                    1000 * median(steps.stream().map(StepMetrics::stepSeconds).toList()),
                    mfu(steps));
        }
    }

    /** The median MFU in percent, or a dash where no peak was declared. */
    private static String mfu(List<StepMetrics> steps) {
        List<Double> values = steps.stream()
                .filter(m -> m.modelFlopsUtilization().isPresent())
                .map(m -> m.modelFlopsUtilization().getAsDouble())
                .toList();
        return values.isEmpty() ? "—" : String.format("%.1f%%", 100 * median(values));
    }

    // 8. A pipeline boundary between processes: p = 2 at 4 micro-batches (1F1B, one thread per stage) with both
    // stages in one process (queues) against one stage in each of two pipeline ranks (Gloo send/recv over
    // loopback TCP; the two ranks are sessions in this JVM, as in the tests, so the figure leaves out a real
    // network). bench.sections=crossstage-25m adds gpt-25M. Rounds alternate the two layouts so that drift in the
    // machine's speed hits both alike.
    private static void crossStage(Path work, boolean withLarge) throws Exception {
        System.out.println("| model | params | micro-batches | one process s | two processes s | added "
                + "| one process stage CPU s | two processes stage CPU s | added CPU |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (String name : withLarge ? new String[] {"gpt-3M", "gpt-25M"} : new String[] {"gpt-3M"}) {
            JobSpec spec = name.equals("gpt-3M")
                    ? gpt(4, 256, 4, 128, 16, 6, 2, 4, "1f1b")
                    : gpt(8, 512, 8, 128, 8, 4, 2, 4, "1f1b");
            // No checkpoint during the timed steps (a short run's default writes one after every step, and the
            // writer thread competes with the stage threads for the cores); the final one comes after them.
            spec = spec.withCheckpoint(new CheckpointPolicy(1000, 1, false));
            long params = ModelLayout.of(spec.model()).parameters();
            List<Double> together = new ArrayList<>();
            List<Double> split = new ArrayList<>();
            List<Double> togetherCpu = new ArrayList<>();
            List<Double> splitCpu = new ArrayList<>();
            // stage 0's split of its step (compute, bubble, communication, and the step outside the stage thread)
            List<StepMetrics> togetherSteps = new ArrayList<>();
            List<StepMetrics> splitSteps = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                // A B B A ...: a trend in the machine's load favours neither layout
                for (int layout : round % 2 == 0 ? new int[] {0, 1} : new int[] {1, 0}) {
                    if (layout == 0) {
                        for (StepMetrics m : train(work, spec, 2, 1)) {
                            togetherSteps.add(m);
                            together.add(m.stepSeconds());
                            togetherCpu.add(m.stageCpuSeconds().stream()
                                    .mapToDouble(Double::doubleValue)
                                    .sum());
                        }
                    } else {
                        List<Double> cpu = new CopyOnWriteArrayList<>();
                        for (StepMetrics m : trainOnTwoPipelineRanks(work, spec, cpu)) {
                            splitSteps.add(m);
                            split.add(m.stepSeconds());
                        }
                        splitCpu.addAll(cpu);
                    }
                }
            }
            double one = median(together);
            double two = median(split);
            double oneCpu = median(togetherCpu);
            double twoCpu = median(splitCpu);
            System.out.printf(
                    "| %s | %.2fM | 4 | %.3f | %.3f | %+.1f%% | %.3f | %.3f | %+.1f%% |%n",
                    name, params / 1e6, one, two, 100 * (two / one - 1), oneCpu, twoCpu, 100 * (twoCpu / oneCpu - 1));
            System.out.println("  stage 0, one process: " + stageZeroSplit(togetherSteps));
            System.out.println("  stage 0, two processes: " + stageZeroSplit(splitSteps));
        }
        System.out.println();
    }

    /** Medians of stage 0's compute, bubble and communication, and of the step's time outside the stage thread. */
    private static String stageZeroSplit(List<StepMetrics> steps) {
        java.util.function.ToDoubleFunction<java.util.function.ToDoubleFunction<StepMetrics>> med =
                f -> median(steps.stream().map(m -> f.applyAsDouble(m)).toList());
        return String.format(
                "compute %.3f s, bubble %.3f s, communication %.3f s, outside the stage thread %.3f s",
                med.applyAsDouble(m -> m.stageTimes().get(0).computeSeconds()),
                med.applyAsDouble(m -> m.stageTimes().get(0).bubbleSeconds()),
                med.applyAsDouble(m -> m.stageTimes().get(0).communicationSeconds()),
                med.applyAsDouble(m -> m.stepSeconds() - m.stageTimes().get(0).wallSeconds()));
    }

    /**
     * Rank 0's steps after warm-up, stage 0 on pipeline rank 0 and stage 1 on rank 1; {@code stageCpu} gets each
     * step's CPU seconds of both stages (the sum of the two ranks' reports for that step).
     */
    private static List<StepMetrics> trainOnTwoPipelineRanks(Path work, JobSpec spec, List<Double> stageCpu)
            throws Exception {
        Map<Long, Double> cpuByStep = new ConcurrentHashMap<>();
        int port = StorePorts.free();
        List<StepMetrics> steps = new CopyOnWriteArrayList<>();
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<CompletableFuture<?>> ranks = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                int r = rank;
                Path out = work.resolve("crossstage-" + System.nanoTime() + "-" + rank);
                TrainingRun run = TrainingRun.of(spec, 1, out)
                        .withThreadsPerStage(1)
                        .asPipelineRank(new PipelineGroup(rank, 2, rank, rank + 1, 2, "127.0.0.1", port, null))
                        .reportingTo(new TrainingListener() {
                            @Override
                            public void onStep(StepMetrics metrics) {
                                if (metrics.step() > WARMUP_STEPS) {
                                    if (r == 0) {
                                        steps.add(metrics);
                                    }
                                    double cpu = metrics.stageCpuSeconds().stream()
                                            .mapToDouble(Double::doubleValue)
                                            .sum();
                                    cpuByStep.merge(metrics.step(), cpu, Double::sum);
                                }
                            }
                        });
                ranks.add(CompletableFuture.runAsync(() -> Trainer.train(run, new TorchEngine()), threads));
            }
            for (CompletableFuture<?> rank : ranks) {
                rank.get();
            }
        } finally {
            threads.shutdownNow();
        }
        stageCpu.addAll(cpuByStep.values());
        return steps;
    }

    private static java.util.regex.Matcher firstMatch(List<String> log, java.util.regex.Pattern pattern) {
        return log.stream()
                .map(pattern::matcher)
                .filter(java.util.regex.Matcher::find)
                .findFirst()
                .orElseThrow();
    }

    /** Rank 0's steps after warm-up; its log lines go to {@code log}. */
    private static List<StepMetrics> trainOnTwoRanks(Path work, JobSpec spec, List<String> log) throws Exception {
        return trainOnTwoRanks(work, spec, log, new CopyOnWriteArrayList<>());
    }

    /** Rank 0's steps after warm-up and log lines; its devices' measured memory, step by step, to {@code memory}. */
    private static List<StepMetrics> trainOnTwoRanks(
            Path work, JobSpec spec, List<String> log, List<DeviceMemory> memory) throws Exception {
        List<StepMetrics> steps = new CopyOnWriteArrayList<>();
        IntFunction<TrainingListener> rankZeroRecorder = r -> new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                if (r == 0 && metrics.step() > WARMUP_STEPS) {
                    steps.add(metrics);
                }
            }

            @Override
            public void onLog(String line) {
                if (r == 0) {
                    log.add(line);
                }
            }

            @Override
            public void onMemory(long step, List<DeviceMemory> devices) {
                if (r == 0) {
                    memory.addAll(devices);
                }
            }
        };
        trainReplicas(work.resolve("zero-" + System.nanoTime()), spec, 1, StopSignal.never(), rankZeroRecorder);
        return steps;
    }

    // 9. Sharded checkpoint write and restore against one whole file, for a real GPT's state (trained 2 steps on
    // one process, so the moments are not zero) of about 25M and 100M parameters, cut as 2 data-parallel processes
    // at ZeRO 1 cut it: each writer an equal flat share of every tensor. Writing: each shard on its own thread at
    // once (write, SHA-256 while writing, fsync), then the manifest; the whole file by one writer. Restoring: what
    // rank 0 of d2 ZeRO 1 holds (the whole parameters, the first half of each moment), in a fresh JVM each, its
    // peak resident rise over its size before the restore (VmHWM after a reset): reading only the regions it
    // needs, from the shards and from the whole file; and loading everything, then slicing, as every restore did
    // before readers read by region.
    private static final String[] SHARD_IO_MODELS =
            System.getProperty("bench.shardio.models", "25M,100M").split(",");

    private static void shardedCheckpointIo(Path work) throws Exception {
        System.out.println("| model | state MB | write: whole file s | write: 2 shards at once s (each) | restore"
                + " | from | read MB | s (verify + read) | peak resident rise MB |");
        System.out.println("| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |");
        for (String model : SHARD_IO_MODELS) {
            int width = model.equals("100M") ? 1024 : 512;
            JobSpec spec = gpt(8, width, 8, 64, 2, 0, 1, 1, "1f1b").withCheckpoint(new CheckpointPolicy(2, 1, false));
            Path out = work.resolve("shardio-" + model);
            Trainer.train(TrainingRun.of(spec, 1, out).withThreadsPerStage(2), new TorchEngine());
            Path trained =
                    new CheckpointStore(out.resolve("checkpoints")).latest().orElseThrow();
            CheckpointState state = CheckpointStore.load(trained);
            long stateBytes = Files.size(trained);

            Path whole = work.resolve("shardio-" + model + "-whole");
            long start = System.nanoTime();
            Path wholeFile = new CheckpointStore(whole).write(state, 0.0).path();
            double wholeWrite = (System.nanoTime() - start) / 1e9;

            ModelState model0 =
                    new ModelState(state.parameters(), state.buffers(), state.firstMoments(), state.secondMoments());
            Path shards = work.resolve("shardio-" + model + "-shards");
            CheckpointStore shardStore = new CheckpointStore(shards);
            double[] each = new double[2];
            start = System.nanoTime();
            CompletableFuture<?>[] writers = new CompletableFuture<?>[2];
            for (int rank = 0; rank < 2; rank++) {
                int r = rank;
                ModelShard shard = ModelShard.share(model0, r, 2);
                ShardedCheckpoint.Header header = new ShardedCheckpoint.Header(
                        state.step(),
                        state.dataPosition(),
                        state.optimizerStep(),
                        state.seed(),
                        1,
                        state.specJson(),
                        "t1 p1 d2 zero1 on 2 processes",
                        r,
                        2);
                writers[r] = CompletableFuture.runAsync(() -> {
                    long began = System.nanoTime();
                    shardStore.writeShard(header, shard, 0.0);
                    each[r] = (System.nanoTime() - began) / 1e9;
                });
            }
            CompletableFuture.allOf(writers).get();
            double shardWrite = (System.nanoTime() - start) / 1e9;
            state = null;
            model0 = null;
            Path shardZero = shards.resolve("step-00000002.shard-0-of-2.safetensors");

            String writes = String.format("%.2f | %.2f (%.2f, %.2f)", wholeWrite, shardWrite, each[0], each[1]);
            String[][] restores = {
                {"own regions", "2 shards", shardZero.toString()},
                {"own regions", "whole file", wholeFile.toString()},
                {"load all, then slice", "2 shards", shardZero.toString()},
                {"load all, then slice", "whole file", wholeFile.toString()}
            };
            for (String[] restore : restores) {
                String[] probe = probeRestore(work, restore[0].startsWith("own") ? "regions" : "all", restore[2]);
                System.out.printf(
                        "| gpt-%s | %.0f | %s | %s | %s | %s | %s | %s |%n",
                        model, stateBytes / 1e6, writes, restore[0], restore[1], probe[0], probe[1], probe[2]);
                writes = " | ";
            }
            deleteRecursively(out);
            deleteRecursively(whole);
            deleteRecursively(shards);
        }
        System.out.println();
    }

    /** Runs {@link RestoreProbe} in a fresh JVM; returns its read MB, seconds and peak resident rise MB. */
    private static String[] probeRestore(Path work, String mode, String checkpoint) throws Exception {
        Path log = work.resolve("probe-" + System.nanoTime() + ".log");
        Process p = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx4g",
                        "-cp",
                        System.getProperty("java.class.path"),
                        RestoreProbe.class.getName(),
                        mode,
                        checkpoint)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("restore probe failed: " + Files.readString(log));
        }
        String line = Files.readAllLines(log).stream()
                .filter(l -> l.startsWith("probe "))
                .findFirst()
                .orElseThrow();
        String[] f = line.substring("probe ".length()).split(" ");
        return new String[] {
            String.format("%.0f", Long.parseLong(f[0]) / 1e6),
            String.format("%.2f", Double.parseDouble(f[1])),
            String.format("%.0f", Long.parseLong(f[2]) / 1e6)
        };
    }

    /**
     * Restores what rank 0 of d2 ZeRO 1 holds (whole parameters, the first half of each moment's elements) from a
     * checkpoint, keeping it as an engine keeps its tensors, and prints "probe READ_BYTES SECONDS PEAK_RISE_BYTES".
     * Mode {@code regions} reads only those regions; {@code all} loads the whole state, then copies the slices.
     */
    public static final class RestoreProbe {

        public static void main(String[] args) {
            Path checkpoint = Path.of(args[1]);
            List<float[]> held = new ArrayList<>();
            System.gc();
            long before = dev.trainyard.runner.engine.PeakMemory.rssBytes();
            dev.trainyard.runner.engine.PeakMemory.resetPeak();
            long start = System.nanoTime();
            long read;
            if (args[0].equals("regions")) {
                try (CheckpointReader reader = CheckpointStore.open(checkpoint)) {
                    for (String name : reader.parameterNames()) {
                        held.add(reader.parameters().require(name).data());
                        int half = (int) (TensorRegion.whole(reader.parameters().shape(name))
                                        .elements()
                                / 2);
                        held.add(reader.firstMoments().readFlat(name, 0, half));
                        held.add(reader.secondMoments().readFlat(name, 0, half));
                    }
                    reader.verify();
                    read = reader.bytesRead();
                }
            } else {
                try (CheckpointReader reader = CheckpointStore.open(checkpoint)) {
                    CheckpointState state = reader.whole();
                    reader.verify();
                    read = reader.bytesRead();
                    for (int i = 0; i < state.parameters().size(); i++) {
                        held.add(state.parameters().get(i).data());
                        float[] first = state.firstMoments().get(i).data();
                        float[] second = state.secondMoments().get(i).data();
                        held.add(java.util.Arrays.copyOf(first, first.length / 2));
                        held.add(java.util.Arrays.copyOf(second, second.length / 2));
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long rise = dev.trainyard.runner.engine.PeakMemory.peakRssBytes() - before;
            System.out.printf(java.util.Locale.ROOT, "probe %d %.3f %d %d%n", read, seconds, rise, held.size());
        }
    }

    private static double bothRanks(Runnable rankZero, Runnable rankOne) {
        long start = System.nanoTime();
        var other = CompletableFuture.runAsync(rankOne);
        rankZero.run();
        other.join();
        return (System.nanoTime() - start) / 1e9;
    }

    private static List<StepMetrics> train(Path work, JobSpec spec, int devices, int threads) {
        List<StepMetrics> steps = new ArrayList<>();
        Path out = work.resolve("run-" + System.nanoTime());
        Trainer.train(
                TrainingRun.of(spec, devices, out).withThreadsPerStage(threads).reportingTo(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics metrics) {
                        if (metrics.step() > WARMUP_STEPS) {
                            steps.add(metrics);
                        }
                    }
                }),
                new TorchEngine());
        deleteRecursively(out);
        return steps;
    }

    // 5. Tensor parallelism: one stage on t = 2 devices (one thread each, Gloo between them) against t = 1 with
    // the same cores as intra-op threads. Rows give medians over the steps after warm-up. -Dbench.tp.sides=1 or =2
    // runs one side only, so that each can run in its own JVM with the OpenBLAS pool the runner would give it
    // (OPENBLAS_NUM_THREADS is read once, when the library loads): cores for t = 1, one per device for t = 2.
    private static void tensorParallel(Path work, int threads) {
        String sides = System.getProperty("bench.tp.sides", "1,2");
        boolean runOne = sides.contains("1");
        boolean runTwo = sides.contains("2");
        System.out.println("OPENBLAS_NUM_THREADS=" + System.getenv("OPENBLAS_NUM_THREADS"));
        System.out.println("| model | params | t = 1 step s (" + threads + " threads) | t = 2 step s (1 thread each) "
                + "| t = 2 / t = 1 | loss t = 1 | loss t = 2 |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        String only = System.getProperty("bench.tp.models", "gpt-3M,gpt-25M");
        for (String name : only.split(",")) {
            JobSpec one = name.equals("gpt-3M")
                    ? gpt(4, 256, 4, 128, 16, 6, 1, 1, "1f1b")
                    : gpt(8, 512, 8, 128, 8, 4, 1, 1, "1f1b");
            JobSpec two = one.withParallelism(new ParallelismSpec(1, 1, "1f1b", false, 1, "params", 2, null));
            long params = ModelLayout.of(one.model()).parameters();
            List<StepMetrics> single = runOne ? train(work, one, 1, threads) : List.of();
            List<StepMetrics> split = runTwo ? train(work, two, 2, 1) : List.of();
            double singleStep = runOne
                    ? median(single.stream().map(StepMetrics::stepSeconds).toList())
                    : Double.NaN;
            double splitStep =
                    runTwo ? median(split.stream().map(StepMetrics::stepSeconds).toList()) : Double.NaN;
            System.out.printf(
                    "| %s | %.2fM | %.3f | %.3f | %.2fx | %.4f | %.4f |%n",
                    name,
                    params / 1e6,
                    singleStep,
                    splitStep,
                    splitStep / singleStep,
                    runOne ? single.get(single.size() - 1).loss() : Double.NaN,
                    runTwo ? split.get(split.size() - 1).loss() : Double.NaN);
        }
        System.out.println();
    }

    private static JobSpec gpt(
            int layers,
            int d,
            int heads,
            int seqLen,
            int batch,
            int steps,
            int stages,
            int microBatches,
            String schedule) {
        return SpecDocument.parseForTraining(
                """
        {"name": "bench",
         "model": {"type": "gpt", "layers": %d, "dModel": %d, "heads": %d, "seqLen": %d, "vocab": 256},
         "data": {"type": "arithmetic", "seed": 1},
         "training": {"steps": %d, "batchSize": %d, "learningRate": 0.001, "seed": 1},
         "parallelism": {"stages": %d, "microBatches": %d, "schedule": "%s"}}
        """.formatted(layers, d, heads, seqLen, steps + WARMUP_STEPS, batch, stages, microBatches, schedule));
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2);
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Temporary files only.
        }
    }
}
