package dev.trainyard.spec;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Checks a whole job spec and fills in the defaults of {@link SpecDefaults}, so that what is stored (and what the
 * runner trains) is explicit. Checks that need the database (does the pool exist?) are the API's; checks that
 * need the model or data file are the engine's.
 */
public final class JobSpecValidator {

    public static final List<String> PRIORITIES =
            SchemaBounds.of(JobSpec.class, "priority").allowed();
    /** Job names; the document's pattern of {@code JobSpec.name}. */
    static final String NAME_PATTERN = "^[A-Za-z0-9._-]{1,100}$";

    static final Pattern NAME = Pattern.compile(NAME_PATTERN);
    static final int MAX_GPUS = 512;
    static final int MAX_TENSOR_PARALLEL = 64;
    static final long MAX_RUNTIME_SECONDS = 30L * 24 * 3600;

    private JobSpecValidator() {}

    /**
     * Returns a submitted spec with every default filled in, or throws {@link InvalidFieldsException} with all
     * violations found.
     */
    public static JobSpec normalize(JobSpec spec) {
        return normalize(spec, true);
    }

    /**
     * As {@link #normalize(JobSpec)} for a document trained offline, where {@code name} and {@code resources}
     * may be left out (the command line says how many devices to use).
     */
    public static JobSpec normalizeForTraining(JobSpec spec) {
        return normalize(spec, false);
    }

    private static JobSpec normalize(JobSpec spec, boolean submitted) {
        Violations v = new Violations();
        if (spec == null) {
            v.add("$", "a job spec is required");
            v.throwIfAny();
        }
        if ((submitted ? v.require("name", spec.name()) : spec.name() != null)
                && !NAME.matcher(spec.name()).matches()) {
            v.add("name", "must be 1-100 letters, digits, '.', '_' or '-'");
        }
        v.checkResourceName("project", spec.project());
        String priority = spec.priority() == null
                ? SpecDefaults.PRIORITY
                : spec.priority().toLowerCase(Locale.ROOT);
        v.checkAllowed("priority", priority, JobSpec.class, "priority");
        Resources resources = submitted || spec.resources() != null ? resources(spec.resources(), v) : null;
        Limits limits = limits(spec.limits(), v);
        ModelSpec model = model(spec.model(), submitted, v);
        DataSpec data = data(spec.data(), submitted, v);
        TrainingSpec training = training(spec.training(), v);
        ParallelismSpec parallelism = parallelism(spec.parallelism(), resources, model, training, v);
        CheckpointPolicy checkpoint = checkpoint(spec.checkpoint(), training, v);
        if (model != null && data != null) {
            ModelDataFit.check(model, data, v);
        }
        v.throwIfAny();
        return new JobSpec(
                spec.name(),
                spec.project(),
                priority,
                resources,
                limits,
                model,
                data,
                training,
                parallelism,
                checkpoint);
    }

    private static Resources resources(Resources r, Violations v) {
        if (!v.require("resources", r)) {
            return null;
        }
        if (r.pool() == null && r.gpuType() == null) {
            v.add("resources.pool", "name a pool or a gpuType");
        }
        v.checkResourceName("resources.pool", r.pool());
        if (r.gpuType() != null && (r.gpuType().isBlank() || r.gpuType().length() > 64)) {
            v.add("resources.gpuType", "must be 1-64 characters");
        }
        v.require("resources.gpus", r.gpus());
        v.checkBounds("resources.gpus", r.gpus(), Resources.class, "gpus");
        Integer minGpus = r.minGpus() == null ? r.gpus() : r.minGpus();
        v.checkBounds("resources.minGpus", minGpus, Resources.class, "minGpus");
        if (minGpus != null && r.gpus() != null && minGpus > r.gpus()) {
            v.add("resources.minGpus", "must not exceed resources.gpus (" + r.gpus() + ")");
        }
        return new Resources(r.pool(), r.gpuType(), r.gpus(), minGpus, Boolean.TRUE.equals(r.multiNode()));
    }

    private static Limits limits(Limits l, Violations v) {
        Limits given = l == null ? new Limits(null, null, null) : l;
        v.checkBounds("limits.maxCostUsd", given.maxCostUsd(), Limits.class, "maxCostUsd");
        long runtime = given.maxRuntimeSeconds() == null ? SpecDefaults.MAX_RUNTIME_SECONDS : given.maxRuntimeSeconds();
        v.checkBounds("limits.maxRuntimeSeconds", runtime, Limits.class, "maxRuntimeSeconds");
        int restarts = given.maxRestarts() == null ? SpecDefaults.MAX_RESTARTS : given.maxRestarts();
        v.checkBounds("limits.maxRestarts", restarts, Limits.class, "maxRestarts");
        return new Limits(given.maxCostUsd(), runtime, restarts);
    }

    private static ModelSpec model(ModelSpec m, boolean submitted, Violations v) {
        if (!v.require("model", m)) {
            return null;
        }
        if (m instanceof ModelSpec.Gpt g) {
            return gpt(g, v);
        }
        if (m instanceof ModelSpec.Mlp mlp) {
            return mlp(mlp, v);
        }
        return torchScript((ModelSpec.TorchScript) m, submitted, v);
    }

    /** Which of seqLen / inputs + outputs the data needs is checked by the runner, which sees both. */
    private static ModelSpec torchScript(ModelSpec.TorchScript t, boolean submitted, Violations v) {
        checkUri("model.uri", t.uri(), submitted, v);
        String task = t.task() == null ? SpecDefaults.TASK : t.task();
        v.checkAllowed("model.task", task, ModelSpec.TorchScript.class, "task");
        v.checkBounds("model.seqLen", t.seqLen(), ModelSpec.TorchScript.class, "seqLen");
        v.checkBounds("model.inputs", t.inputs(), ModelSpec.TorchScript.class, "inputs");
        v.checkBounds("model.outputs", t.outputs(), ModelSpec.TorchScript.class, "outputs");
        return new ModelSpec.TorchScript("torchscript", t.uri(), task, t.seqLen(), t.inputs(), t.outputs());
    }

    private static ModelSpec gpt(ModelSpec.Gpt g, Violations v) {
        v.require("model.layers", g.layers());
        v.checkBounds("model.layers", g.layers(), ModelSpec.Gpt.class, "layers");
        v.require("model.dModel", g.dModel());
        v.checkBounds("model.dModel", g.dModel(), ModelSpec.Gpt.class, "dModel");
        v.require("model.heads", g.heads());
        v.checkBounds("model.heads", g.heads(), ModelSpec.Gpt.class, "heads");
        if (g.dModel() != null && g.heads() != null && g.heads() > 0 && g.dModel() % g.heads() != 0) {
            v.add("model.heads", "must divide model.dModel (" + g.dModel() + ")");
        }
        v.require("model.seqLen", g.seqLen());
        v.checkBounds("model.seqLen", g.seqLen(), ModelSpec.Gpt.class, "seqLen");
        int vocab = g.vocab() == null ? SpecDefaults.GPT_VOCAB : g.vocab();
        v.checkBounds("model.vocab", vocab, ModelSpec.Gpt.class, "vocab");
        double dropout = g.dropout() == null ? SpecDefaults.DROPOUT : g.dropout();
        v.checkBounds("model.dropout", dropout, ModelSpec.Gpt.class, "dropout");
        return new ModelSpec.Gpt("gpt", g.layers(), g.dModel(), g.heads(), g.seqLen(), vocab, dropout);
    }

    private static ModelSpec mlp(ModelSpec.Mlp m, Violations v) {
        v.require("model.inputs", m.inputs());
        v.checkBounds("model.inputs", m.inputs(), ModelSpec.Mlp.class, "inputs");
        if (v.require("model.hidden", m.hidden())) {
            if (m.hidden().size() > 64) {
                v.add("model.hidden", "at most 64 hidden layers");
            }
            for (int i = 0; i < m.hidden().size(); i++) {
                if (m.hidden().get(i) == null) {
                    v.add("model.hidden[" + i + "]", "is required");
                } else {
                    v.checkRange("model.hidden[" + i + "]", m.hidden().get(i), 1, 65_536);
                }
            }
        }
        v.require("model.outputs", m.outputs());
        v.checkBounds("model.outputs", m.outputs(), ModelSpec.Mlp.class, "outputs");
        String task = m.task() == null ? SpecDefaults.TASK : m.task();
        v.checkAllowed("model.task", task, ModelSpec.Mlp.class, "task");
        return new ModelSpec.Mlp("mlp", m.inputs(), m.hidden(), m.outputs(), task);
    }

    private static DataSpec data(DataSpec d, boolean submitted, Violations v) {
        if (!v.require("data", d)) {
            return null;
        }
        double eval = d.evalFraction() == null ? SpecDefaults.EVAL_FRACTION : d.evalFraction();
        // both ends are refused: no held-out data leaves evaluation nothing to read, half of it is no split
        v.checkBounds("data.evalFraction", eval, dataRecord(d), "evalFraction");
        if (d instanceof DataSpec.Arithmetic a) {
            long seed = a.seed() == null ? SpecDefaults.DATA_SEED : a.seed();
            v.checkBounds("data.seed", seed, DataSpec.Arithmetic.class, "seed");
            return new DataSpec.Arithmetic("arithmetic", seed, eval);
        }
        if (d instanceof DataSpec.Text t) {
            checkUri("data.uri", t.uri(), submitted, v);
            return new DataSpec.Text("text", t.uri(), eval);
        }
        if (d instanceof DataSpec.Table t) {
            checkUri("data.uri", t.uri(), submitted, v);
            if (v.require("data.features", t.features())
                    && (t.features().isEmpty() || t.features().stream().anyMatch(f -> f == null || f.isBlank()))) {
                v.add("data.features", "must list at least one non-empty column name");
            }
            if (v.require("data.label", t.label()) && t.label().isBlank()) {
                v.add("data.label", "must not be empty");
            }
            return new DataSpec.Table(t.type(), t.uri(), t.features(), t.label(), eval);
        }
        DataSpec.SyntheticTabular s = (DataSpec.SyntheticTabular) d;
        long seed = s.seed() == null ? SpecDefaults.DATA_SEED : s.seed();
        v.checkBounds("data.seed", seed, DataSpec.SyntheticTabular.class, "seed");
        int rows = s.rows() == null ? SpecDefaults.SYNTHETIC_ROWS : s.rows();
        v.checkBounds("data.rows", rows, DataSpec.SyntheticTabular.class, "rows");
        return new DataSpec.SyntheticTabular("synthetic-tabular", seed, rows, eval);
    }

    private static TrainingSpec training(TrainingSpec t, Violations v) {
        if (!v.require("training", t)) {
            return null;
        }
        v.require("training.steps", t.steps());
        v.checkBounds("training.steps", t.steps(), TrainingSpec.class, "steps");
        long steps = t.steps() == null || t.steps() < 1 ? 1 : t.steps();
        int batch = t.batchSize() == null ? SpecDefaults.BATCH_SIZE : t.batchSize();
        v.checkBounds("training.batchSize", batch, TrainingSpec.class, "batchSize");
        double lr = t.learningRate() == null ? SpecDefaults.LEARNING_RATE : t.learningRate();
        v.checkBounds("training.learningRate", lr, TrainingSpec.class, "learningRate");
        double minLr = t.minLearningRate() == null ? SpecDefaults.minLearningRate(lr) : t.minLearningRate();
        v.checkBounds("training.minLearningRate", minLr, TrainingSpec.class, "minLearningRate");
        v.checkRange("training.minLearningRate", minLr, 0, lr);
        int warmup = t.warmupSteps() == null ? SpecDefaults.warmupSteps(steps) : t.warmupSteps();
        v.checkBounds("training.warmupSteps", warmup, TrainingSpec.class, "warmupSteps");
        v.checkRange("training.warmupSteps", warmup, 0, steps);
        double wd = t.weightDecay() == null ? SpecDefaults.WEIGHT_DECAY : t.weightDecay();
        v.checkBounds("training.weightDecay", wd, TrainingSpec.class, "weightDecay");
        double clip = t.gradClip() == null ? SpecDefaults.GRAD_CLIP : t.gradClip();
        v.checkBounds("training.gradClip", clip, TrainingSpec.class, "gradClip");
        long seed = t.seed() == null ? SpecDefaults.TRAINING_SEED : t.seed();
        v.checkBounds("training.seed", seed, TrainingSpec.class, "seed");
        int evalEvery = t.evalEvery() == null ? SpecDefaults.evalEvery(steps) : t.evalEvery();
        v.checkBounds("training.evalEvery", evalEvery, TrainingSpec.class, "evalEvery");
        String precision =
                t.precision() == null ? SpecDefaults.PRECISION : t.precision().toLowerCase(Locale.ROOT);
        v.checkAllowed("training.precision", precision, TrainingSpec.class, "precision");
        double divergence = t.divergenceFactor() == null ? SpecDefaults.DIVERGENCE_FACTOR : t.divergenceFactor();
        v.checkBounds("training.divergenceFactor", divergence, TrainingSpec.class, "divergenceFactor");
        if (divergence > 0 && divergence <= 1) {
            v.add("training.divergenceFactor", "must be 0 (never) or above 1");
        }
        return new TrainingSpec(t.steps(), batch, lr, minLr, warmup, wd, clip, seed, evalEvery, precision, divergence);
    }

    private static ParallelismSpec parallelism(
            ParallelismSpec p, Resources r, ModelSpec model, TrainingSpec t, Violations v) {
        ParallelismSpec given = p == null ? new ParallelismSpec(null, null, null, null, null, null) : p;
        int dp = given.dataParallel() == null ? SpecDefaults.DATA_PARALLEL : given.dataParallel();
        v.checkBounds("parallelism.dataParallel", dp, ParallelismSpec.class, "dataParallel");
        int micro = given.microBatches() == null ? SpecDefaults.MICRO_BATCHES : given.microBatches();
        v.checkBounds("parallelism.microBatches", micro, ParallelismSpec.class, "microBatches");
        String schedule = given.schedule() == null
                ? SpecDefaults.SCHEDULE
                : given.schedule().toLowerCase(Locale.ROOT);
        v.checkAllowed("parallelism.schedule", schedule, ParallelismSpec.class, "schedule");
        String balance =
                given.balance() == null ? SpecDefaults.BALANCE : given.balance().toLowerCase(Locale.ROOT);
        v.checkAllowed("parallelism.balance", balance, ParallelismSpec.class, "balance");
        v.checkBounds("parallelism.stages", given.stages(), ParallelismSpec.class, "stages");
        int tp = given.tensorParallelOrDefault();
        v.checkBounds("parallelism.tensorParallel", tp, ParallelismSpec.class, "tensorParallel");
        checkTensorSplit(tp, model, v);
        int zero = given.zero() == null ? SpecDefaults.ZERO : given.zero();
        checkZero(zero, v);
        if (r != null && r.gpus() != null && r.minGpus() != null && dp >= 1 && tp >= 1) {
            checkDeviceSplit(given.stages(), dp, tp, r, v);
            int blocks = blockCount(model);
            if (blocks > 0 && r.gpus() / dp / tp > blocks) {
                v.add(
                        "resources.gpus",
                        "the model has " + blocks + " blocks, so at most " + blocks * dp * tp
                                + " devices can be used (one stage per tensorParallel devices)");
            }
        }
        if (t != null && t.batchSize() != null && micro >= 1 && dp >= 1 && t.batchSize() % (micro * dp) != 0) {
            v.add(
                    "training.batchSize",
                    "must be divisible by parallelism.microBatches x dataParallel (" + micro * dp + ")");
        }
        return new ParallelismSpec(
                given.stages(), micro, schedule, Boolean.TRUE.equals(given.recompute()), dp, balance, tp, zero);
    }

    /**
     * ZeRO 0-3 are accepted; with dataParallel 1 a stage above 0 is accepted and has no effect (a single rank
     * holds all of the state whatever the stage), so a layout stays valid when elastic training runs it on fewer
     * replicas.
     */
    private static void checkZero(int zero, Violations v) {
        v.checkBounds("parallelism.zero", zero, ParallelismSpec.class, "zero");
    }

    /**
     * Tensor parallelism splits a GPT's attention heads, its MLP's hidden width (4 x dModel) and its vocabulary
     * into equal shards, one per device of the group.
     */
    private static void checkTensorSplit(int tp, ModelSpec model, Violations v) {
        if (tp <= 1) {
            return;
        }
        if (!(model instanceof ModelSpec.Gpt g)) {
            if (model != null) {
                v.add("parallelism.tensorParallel", "must be 1 for a " + model.type() + " model (gpt models only)");
            }
            return;
        }
        if (g.heads() != null && g.heads() % tp != 0) {
            v.add("parallelism.tensorParallel", "must divide model.heads (" + g.heads() + ")");
        }
        if (g.dModel() != null && 4L * g.dModel() % tp != 0) {
            v.add("parallelism.tensorParallel", "must divide the MLP width 4 x model.dModel (" + 4L * g.dModel() + ")");
        }
        if (g.vocab() != null && g.vocab() % tp != 0) {
            v.add("parallelism.tensorParallel", "must divide model.vocab (" + g.vocab() + ")");
        }
    }

    private static void checkDeviceSplit(Integer stages, int dp, int tp, Resources r, Violations v) {
        if (r.gpus() % dp != 0) {
            v.add("parallelism.dataParallel", "must divide resources.gpus (" + r.gpus() + ")");
        } else if (r.gpus() / dp % tp != 0) {
            // A replica's devices sit in one runner (the scheduler cuts gangs between whole replicas), so every
            // tensor-parallel group does too.
            v.add(
                    "parallelism.tensorParallel",
                    "must divide each replica's devices, resources.gpus / dataParallel (" + r.gpus() / dp + ")");
        }
        if (tp > 1 && !r.minGpus().equals(r.gpus())) {
            v.add("resources.minGpus", "elastic placement (minGpus < gpus) is not supported with tensorParallel > 1");
        }
        if (Boolean.TRUE.equals(r.multiNode()) && dp == 1) {
            checkStagesAcrossRunners(tp, r, v);
        }
        if (dp > 1 && r.gpus() % dp == 0 && r.minGpus() % (r.gpus() / dp) != 0) {
            // An elastic job runs on fewer replicas' devices, each process holding more replicas; a replica's
            // pipeline needs all of its devices, so the minimum counts whole replicas.
            v.add(
                    "resources.minGpus",
                    "must be a multiple of one data-parallel replica's devices, resources.gpus / dataParallel ("
                            + r.gpus() / dp + ")");
        }
        if (stages != null && stages * dp * tp != r.gpus()) {
            v.add(
                    "parallelism.stages",
                    "tensorParallel x stages x dataParallel must equal resources.gpus (" + r.gpus() + ")");
        }
    }

    /**
     * multiNode with one replica spreads its pipeline's stages over runners ({@link PipelineCut}), each stage's
     * tensor-parallel group within one runner: it needs at least two stages, and minGpus equal to gpus (its one replica
     * is the least it can run on; with replicas, minGpus counts whole replicas, checked by checkDeviceSplit).
     */
    private static void checkStagesAcrossRunners(int tp, Resources r, Violations v) {
        if (r.gpus() / tp < 2) {
            v.add(
                    "resources.multiNode",
                    "needs at least 2 pipeline stages (resources.gpus >= 2 x parallelism.tensorParallel) or"
                            + " parallelism.dataParallel > 1: only stages or replicas can be spread over runners (a"
                            + " tensor-parallel group stays within one runner)");
        } else if (!r.minGpus().equals(r.gpus()) && tp == 1) {
            // with tensorParallel > 1 an elastic minimum is refused once, by checkDeviceSplit
            v.add(
                    "resources.minGpus",
                    "must equal resources.gpus when one pipeline's stages are spread over runners (multiNode with"
                            + " dataParallel 1)");
        }
    }

    /** Pipeline blocks of a model, or 0 when unknown until the model file is read. */
    static int blockCount(ModelSpec model) {
        if (model instanceof ModelSpec.Gpt g && g.layers() != null) {
            return g.layers() + 2;
        }
        if (model instanceof ModelSpec.Mlp m && m.hidden() != null) {
            return m.hidden().size() + 1;
        }
        return 0;
    }

    private static CheckpointPolicy checkpoint(CheckpointPolicy c, TrainingSpec t, Violations v) {
        CheckpointPolicy given = c == null ? new CheckpointPolicy(null, null, null) : c;
        long steps = t == null || t.steps() == null || t.steps() < 1 ? 1 : t.steps();
        int every = given.everySteps() == null ? SpecDefaults.checkpointEvery(steps) : given.everySteps();
        v.checkBounds("checkpoint.everySteps", every, CheckpointPolicy.class, "everySteps");
        int keep = given.keepLast() == null ? SpecDefaults.KEEP_LAST : given.keepLast();
        v.checkBounds("checkpoint.keepLast", keep, CheckpointPolicy.class, "keepLast");
        return new CheckpointPolicy(every, keep, Boolean.TRUE.equals(given.keepBest()));
    }

    private static Class<? extends Record> dataRecord(DataSpec d) {
        return d.getClass().asSubclass(Record.class);
    }

    /** A file: or http(s): URI; offline, a plain path on this machine too. */
    private static void checkUri(String field, String uri, boolean submitted, Violations v) {
        if (!v.require(field, uri)) {
            return;
        }
        if (!submitted && !uri.isBlank() && !uri.contains(":")) {
            return;
        }
        try {
            URI parsed = new URI(uri);
            String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
            if (!List.of("file", "http", "https").contains(scheme)) {
                v.add(field, "must be a file:, http: or https: URI");
            }
        } catch (URISyntaxException e) {
            v.add(field, "is not a valid URI");
        }
    }
}
