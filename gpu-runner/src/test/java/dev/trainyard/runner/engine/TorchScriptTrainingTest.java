package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.trainyard.runner.engine.EngineRuns.Recorded;
import dev.trainyard.runner.engine.torch.TorchScriptModules;
import dev.trainyard.spec.InvalidFieldsException;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ParallelismSpec;
import dev.trainyard.spec.SpecDocument;
import dev.trainyard.spec.TrainingSpec;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's TorchScript module trains like a built-in model: loss falls, stage counts do not change the
 * result, checkpoints resume exactly (also on another stage count), and bad files fail with clear messages.
 *
 * <p>Modules are built from Java in the test, except {@code tiny-lm.pt}, made by PyTorch 1.13 (see its
 * script next to it). One intra-op thread per stage and the same micro-batches mean the same float
 * operations in the same order, as for built-in models, so results are compared bitwise.
 */
class TorchScriptTrainingTest {

    @TempDir
    static Path files;

    @TempDir
    Path tmp;

    private static Path tokenModel;
    private static Path tabularModel;

    @BeforeAll
    static void buildModules() {
        tokenModel = TorchScriptModules.tokenModel(files.resolve("token.pt"), 128, 16);
        tabularModel = TorchScriptModules.tabularModel(files.resolve("tabular.pt"), 8, new int[] {16, 16}, 3, false);
    }

    static JobSpec tokenSpec(String uri, int steps, int stages, int microBatches) {
        return SpecDocument.parseForTraining("""
        {"name": "scripted-lm",
         "model": {"type": "torchscript", "uri": "%s", "seqLen": 16},
         "data": {"type": "arithmetic", "seed": 3},
         "training": {"steps": %d, "batchSize": 8, "learningRate": 0.01, "minLearningRate": 0.001,
                      "warmupSteps": %d, "weightDecay": 0.01, "gradClip": 1.0, "seed": 11, "evalEvery": 0},
         "parallelism": {"stages": %d, "microBatches": %d, "schedule": "1f1b", "balance": "params"}}
        """.formatted(uri, steps, Math.min(2, steps), stages, microBatches));
    }

    static JobSpec tabularSpec(Path module, int steps, int stages, boolean recompute) {
        return SpecDocument.parseForTraining("""
        {"name": "scripted-mlp",
         "model": {"type": "torchscript", "uri": "%s", "task": "classification", "inputs": 8, "outputs": 3},
         "data": {"type": "synthetic-tabular", "seed": 5, "rows": 1024},
         "training": {"steps": %d, "batchSize": 32, "learningRate": 0.01, "seed": 1, "evalEvery": %d},
         "parallelism": {"stages": %d, "microBatches": 2, "schedule": "gpipe", "recompute": %s,
                         "balance": "params"}}
        """.formatted(module.toUri(), steps, steps, stages, recompute));
    }

    @Test
    void tokenModuleLearnsArithmetic() {
        Recorded run = EngineRuns.train(tokenSpec(tokenModel.toUri().toString(), 40, 2, 2), tmp);

        double first = run.losses().subList(0, 5).stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElseThrow();
        double last = run.losses().subList(35, 40).stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElseThrow();
        System.out.printf("torchscript token model: mean loss of steps 1-5 %.3f, of steps 36-40 %.3f%n", first, last);
        assertThat(run.result().outcome()).isEqualTo(TrainingResult.Outcome.COMPLETED);
        assertThat(last).isLessThan(0.7 * first);
        // Stable names by block position and the child's own parameter names, whatever the children are called.
        assertThat(run.parameters())
                .containsOnlyKeys(
                        "blocks.0.weight",
                        "blocks.1.up_weight",
                        "blocks.1.up_bias",
                        "blocks.1.down_weight",
                        "blocks.2.weight",
                        "blocks.2.bias");
    }

    @Test
    void tabularModuleLearnsTheTeacherAndExportsTrainedTorchScript() {
        Recorded run = EngineRuns.train(tabularSpec(tabularModel, 150, 3, false), tmp);

        // Three balanced classes: a model that learned nothing stays near ln 3 = 1.10.
        assertThat(run.result().lastEvalLoss()).isLessThan(0.7);
        Path exported = tmp.resolve("model/model.pt");
        assertThat(exported).isRegularFile();
        // The exported TorchScript carries the trained weights: trained again for one step at a negligible rate,
        // it ends where the first run ended.
        Recorded reloaded = EngineRuns.train(
                tabularSpec(exported, 1, 1, false)
                        .withTraining(new TrainingSpec(1L, 32, 1e-9, 0.0, 0, 0.0, 0.0, 1L, 0, "fp32", 0.0)),
                tmp.resolve("reloaded"));
        assertThat(EngineRuns.maxAbsDifference(reloaded.parameters(), run.parameters()))
                .isLessThan(1e-6);
    }

    /**
     * At ZeRO 3 each process keeps only slices of the parameters between steps (and evaluates every step here,
     * gathering them); the exported TorchScript still carries the whole trained weights.
     */
    @Test
    void atZeroThreeOverTwoProcessesTheExportedModuleCarriesTheWholeTrainedWeights() {
        JobSpec base = tabularSpec(tabularModel, 4, 1, false);
        ParallelismSpec p = base.parallelism();
        JobSpec zeroThree = base.withParallelism(new ParallelismSpec(
                p.stages(), p.microBatches(), p.schedule(), p.recompute(), 2, p.balance(), null, 3));
        Recorded run =
                EngineRuns.trainAsProcesses(zeroThree, tmp.resolve("zero3"), Optional.empty(), StopSignal.never());

        Path exported = tmp.resolve("zero3/rank0/model/model.pt");
        Recorded reloaded = EngineRuns.train(
                tabularSpec(exported, 1, 1, false)
                        .withTraining(new TrainingSpec(1L, 32, 1e-9, 0.0, 0, 0.0, 0.0, 1L, 0, "fp32", 0.0)),
                tmp.resolve("reloaded"));
        assertThat(EngineRuns.maxAbsDifference(reloaded.parameters(), run.parameters()))
                .isLessThan(1e-6);
    }

    @Test
    void pythonMadeModuleTrains() throws Exception {
        Path module = tmp.resolve("tiny-lm.pt");
        try (var in = getClass().getResourceAsStream("/torchscript/tiny-lm.pt")) {
            Files.copy(in, module);
        }
        Recorded run = EngineRuns.train(tokenSpec(module.toString(), 30, 3, 2), tmp.resolve("out"));

        assertThat(run.losses().get(29)).isLessThan(0.7 * run.losses().get(0));
        assertThat(run.parameters())
                .containsKeys(
                        "blocks.0.weight",
                        "blocks.1.norm.weight",
                        "blocks.1.up.weight",
                        "blocks.1.down.bias",
                        "blocks.2.weight");
    }

    @Test
    void httpUriIsDownloadedIntoTheRunsCache() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] body = Files.readAllBytes(tokenModel);
        server.createContext("/models/token.pt", exchange -> {
            exchange.sendResponseHeaders(200, body.length);
            try (var out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        try {
            String uri = "http://127.0.0.1:" + server.getAddress().getPort() + "/models/token.pt";
            Recorded downloaded = EngineRuns.train(tokenSpec(uri, 2, 1, 1), tmp.resolve("http"));
            Recorded local = EngineRuns.train(tokenSpec(tokenModel.toString(), 2, 1, 1), tmp.resolve("local"));

            assertThat(EngineRuns.bitwiseEqual(downloaded.parameters(), local.parameters()))
                    .isTrue();
            try (var cached = Files.list(tmp.resolve("http/cache"))) {
                assertThat(cached.map(p -> p.getFileName().toString()))
                        .singleElement()
                        .asString()
                        .endsWith(".pt");
            }
            String missing = "http://127.0.0.1:" + server.getAddress().getPort() + "/models/none.pt";
            assertThatThrownBy(() -> EngineRuns.train(tokenSpec(missing, 1, 1, 1), tmp.resolve("none")))
                    .isInstanceOf(SpecException.class)
                    .hasMessageContaining("could not be downloaded");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void oneTwoAndThreeStagesTrainBitwiseTheSame() {
        Recorded one = EngineRuns.train(tokenSpec(tokenModel.toString(), 4, 1, 2), tmp.resolve("1"));
        for (int stages : new int[] {2, 3}) {
            Recorded more = EngineRuns.train(tokenSpec(tokenModel.toString(), 4, stages, 2), tmp.resolve("" + stages));
            assertThat(more.losses()).isEqualTo(one.losses());
            assertThat(EngineRuns.bitwiseEqual(more.parameters(), one.parameters()))
                    .isTrue();
        }
    }

    @Test
    void checkpointResumesExactlyOnTheSameAndOtherStageCounts() {
        int k = 3;
        JobSpec spec = EngineRuns.withCheckpointEvery(tokenSpec(tokenModel.toString(), 2 * k, 2, 2), k);
        Recorded uninterrupted = EngineRuns.train(spec, tmp.resolve("full"));
        Recorded firstHalf = EngineRuns.train(
                spec,
                tmp.resolve("first"),
                Optional.empty(),
                done -> done == k ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
        assertThat(firstHalf.result().finalStep()).isEqualTo(k);
        Path checkpoint = firstHalf.result().lastCheckpoint().orElseThrow().path();

        for (int stages : new int[] {2, 3, 1}) {
            JobSpec elastic = EngineRuns.withCheckpointEvery(tokenSpec(tokenModel.toString(), 2 * k, stages, 2), k);
            Recorded resumed =
                    EngineRuns.train(elastic, tmp.resolve("on" + stages), Optional.of(checkpoint), StopSignal.never());
            assertThat(resumed.losses()).isEqualTo(uninterrupted.losses().subList(k, 2 * k));
            assertThat(EngineRuns.bitwiseEqual(resumed.parameters(), uninterrupted.parameters()))
                    .isTrue();
        }
    }

    @Test
    void buffersUpdatedInForwardResumeExactlyAndAreExported() throws Exception {
        Path module = TorchScriptModules.tokenModelWithRunningMean(tmp.resolve("centered.pt"), 128, 16);
        int k = 3;
        JobSpec base = tokenSpec(module.toString(), 2 * k, 2, 2);
        TrainingSpec t = base.training();
        // evaluation (eval mode) reads running_mean, so the eval loss shows whether the buffer was restored
        // balanced by measured time: the profiling pass runs the blocks in training mode and must leave no trace
        JobSpec spec = EngineRuns.withCheckpointEvery(
                base.withTraining(new TrainingSpec(
                                t.steps(),
                                t.batchSize(),
                                t.learningRate(),
                                t.minLearningRate(),
                                t.warmupSteps(),
                                t.weightDecay(),
                                t.gradClip(),
                                t.seed(),
                                k,
                                t.precision(),
                                t.divergenceFactor()))
                        .withParallelism(new ParallelismSpec(2, 2, "1f1b", false, 1, "time")),
                k);
        Recorded uninterrupted = EngineRuns.train(spec, tmp.resolve("full"));
        Recorded firstHalf = EngineRuns.train(
                spec,
                tmp.resolve("first"),
                Optional.empty(),
                done -> done == k ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
        Recorded resumed = EngineRuns.train(
                spec,
                tmp.resolve("resumed"),
                Optional.of(firstHalf.result().lastCheckpoint().orElseThrow().path()),
                StopSignal.never());

        // two micro-batches per step: the counter went up twice a step, and the mean moved away from zero
        assertThat(uninterrupted.parameters().get("blocks.1.updates")).containsExactly(2f * 2 * k);
        assertThat(uninterrupted.parameters().get("blocks.1.running_mean")).isNotEqualTo(new float[16]);
        assertThat(EngineRuns.bitwiseEqual(resumed.parameters(), uninterrupted.parameters()))
                .isTrue();
        assertThat(resumed.evalLosses())
                .containsExactly(uninterrupted.evalLosses().get(1));
        String config = Files.readString(tmp.resolve("full/model/config.json"));
        assertThat(config).contains("\"bufferNames\"").contains("blocks.1.running_mean");
    }

    @Test
    void recomputationLeavesBuffersAsTrainingWithoutItDoes() throws Exception {
        Path module = TorchScriptModules.tokenModelWithRunningMean(tmp.resolve("centered.pt"), 128, 16);
        int steps = 3;
        JobSpec spec = tokenSpec(module.toString(), steps, 2, 2);
        Recorded kept = EngineRuns.train(EngineRuns.withPipeline(spec, 2, 2, "1f1b", false), tmp.resolve("kept"));
        Recorded recomputed =
                EngineRuns.train(EngineRuns.withPipeline(spec, 2, 2, "1f1b", true), tmp.resolve("recomputed"));

        // the recomputed forward of each micro-batch updates the buffers a second time; that must not stick
        assertThat(recomputed.parameters().get("blocks.1.updates")).containsExactly(2f * steps);
        assertThat(EngineRuns.bitwiseEqual(recomputed.parameters(), kept.parameters()))
                .isTrue();
    }

    @Test
    void trainCommandTrainsATorchScriptSpecAndResumesInAFreshJvm() throws Exception {
        JobSpec spec =
                EngineRuns.withCheckpointEvery(tokenSpec(tokenModel.toUri().toString(), 4, 2, 2), 2);
        Recorded uninterrupted = EngineRuns.train(spec, tmp.resolve("full"));
        Recorded firstHalf = EngineRuns.train(
                spec,
                tmp.resolve("first"),
                Optional.empty(),
                done -> done == 2 ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
        Path specFile = tmp.resolve("spec.json");
        Files.writeString(specFile, SpecDocument.toJson(spec));
        Path out = tmp.resolve("cli");
        Path log = tmp.resolve("cli.log");

        int exit = ChildJvm.await(
                ChildJvm.start(
                        log,
                        "train",
                        "--spec",
                        specFile.toString(),
                        "--out",
                        out.toString(),
                        "--devices",
                        "2",
                        "--threads-per-stage",
                        "1",
                        "--resume",
                        firstHalf.result().lastCheckpoint().orElseThrow().path().toString()),
                log);

        assertThat(exit).isZero();
        assertThat(Files.readString(log)).contains("loaded").contains("COMPLETED at step 4");
        Map<String, float[]> resumed = EngineRuns.parametersIn(out.resolve("model/model.safetensors"));
        assertThat(EngineRuns.bitwiseEqual(resumed, uninterrupted.parameters())).isTrue();
    }

    @Test
    void badFilesFailWithMessagesThatSayWhatIsWrong() throws Exception {
        Path missing = tmp.resolve("missing.pt");
        assertThatThrownBy(() -> EngineRuns.train(tokenSpec(missing.toUri().toString(), 1, 1, 1), tmp.resolve("a")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("model.uri")
                .hasMessageContaining("no such file");

        Path text = Files.writeString(tmp.resolve("notes.pt"), "not a zip archive");
        assertThatThrownBy(() -> EngineRuns.train(tokenSpec(text.toString(), 1, 1, 1), tmp.resolve("b")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("is not a loadable TorchScript module");

        Path flat = TorchScriptModules.moduleWithoutChildren(tmp.resolve("flat.pt"));
        assertThatThrownBy(() -> EngineRuns.train(tokenSpec(flat.toString(), 1, 1, 1), tmp.resolve("c")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("has no child modules");

        // The tabular module expects 8 features; token ids [B, T] reach its first linear layer.
        assertThatThrownBy(() -> EngineRuns.train(tokenSpec(tabularModel.toString(), 1, 1, 1), tmp.resolve("d")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("block 0 ('0', ")
                .hasMessageContaining("failed");

        // The token model's logits [B, T, 128] are no class scores [B, 3].
        assertThatThrownBy(() -> EngineRuns.train(tabularSpec(tokenModel, 1, 1, false), tmp.resolve("e")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("block 0 ('embed', ");
    }

    @Test
    void dropoutInsideTheModuleRefusesRecomputation() {
        Path withDropout = TorchScriptModules.tabularModel(tmp.resolve("dropout.pt"), 8, new int[] {16}, 3, true);

        assertThatThrownBy(() -> EngineRuns.train(tabularSpec(withDropout, 1, 2, true), tmp.resolve("r")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("parallelism.recompute")
                .hasMessageContaining("dropout");
        Recorded withoutRecompute = EngineRuns.train(tabularSpec(withDropout, 2, 2, false), tmp.resolve("n"));
        assertThat(withoutRecompute.result().outcome()).isEqualTo(TrainingResult.Outcome.COMPLETED);
    }

    @Test
    void specNamesTheFieldsTheDataNeeds() {
        assertThatThrownBy(() -> SpecDocument.parseForTraining("""
        {"model": {"type": "torchscript", "uri": "file:/m.pt"}, "data": {"type": "arithmetic"},
         "training": {"steps": 1, "batchSize": 8}}
        """))
                .isInstanceOf(InvalidFieldsException.class)
                .hasMessageContaining("model.seqLen");
        assertThatThrownBy(() -> SpecDocument.parseForTraining("""
        {"model": {"type": "torchscript", "uri": "file:/m.pt", "inputs": 8}, "data": {"type": "synthetic-tabular"},
         "training": {"steps": 1, "batchSize": 8}}
        """))
                .isInstanceOf(InvalidFieldsException.class)
                .hasMessageContaining("model.outputs");
    }
}
