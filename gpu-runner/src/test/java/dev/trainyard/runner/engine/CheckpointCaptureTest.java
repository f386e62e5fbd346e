package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.SpecDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint's capture keeps the state off the Java heap (native copies written straight to the file), so a
 * runner's heap need not be the model state's size; and the file is byte for byte the one Java arrays would give.
 */
class CheckpointCaptureTest {

    private static final String HEAP = "-Xmx64m";

    @TempDir
    Path tmp;

    /**
     * A gpt of about 12.7M parameters by default (its state, parameters and two AdamW moments, about 150 MB); {@code
     * layers} and {@code dModel} scale it (8 and 1024: about 101M parameters, 1.2 GB of state).
     */
    static JobSpec largerThanTheHeap(int layers, int dModel) {
        return SpecDocument.parseForTraining("""
        {"name": "heap-probe",
         "model": {"type": "gpt", "layers": %d, "dModel": %d, "heads": 8, "seqLen": 16, "vocab": 128,
                   "dropout": 0.0},
         "data": {"type": "arithmetic", "seed": 3, "evalFraction": 0.1},
         "training": {"steps": 3, "batchSize": 2, "learningRate": 0.003, "warmupSteps": 1,
                      "weightDecay": 0.01, "gradClip": 1.0, "seed": 11, "evalEvery": 0},
         "checkpoint": {"everySteps": 1, "keepLast": 2},
         "parallelism": {"microBatches": 1}}
        """.formatted(layers, dModel));
    }

    /**
     * Trains one step, checkpoints and stops in this JVM, and prints the checkpoint's size, the heap's, the
     * seconds and the peak resident memory. Arguments: the output directory, then optionally {@code arrays} to
     * capture into Java arrays as before (the session's other calls unchanged; for the benchmark's "before"), and
     * the layers and width.
     */
    public static final class WriteOneCheckpoint {

        public static void main(String[] args) {
            boolean arrays = args.length > 1 && args[1].equals("arrays");
            JobSpec spec = args.length > 3
                    ? largerThanTheHeap(Integer.parseInt(args[2]), Integer.parseInt(args[3]))
                    : largerThanTheHeap(4, 512);
            TrainingRun run = TrainingRun.of(spec, 1, Path.of(args[0]))
                    .withThreadsPerStage(1)
                    .stoppingOn(done -> done == 1 ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
            TrainingEngine torch = new TorchEngine();
            TrainingEngine engine =
                    arrays ? (r, data, threads) -> capturingIntoArrays(torch.open(r, data, threads)) : torch;
            long start = System.nanoTime();
            TrainingResult result = Trainer.train(run, engine);
            CheckpointWritten written = result.lastCheckpoint().orElseThrow();
            System.out.printf(
                    "written %d bytes under a heap of %d bytes (%s capture, %.1f s, peak RSS %d MB)%n",
                    written.bytes(),
                    Runtime.getRuntime().maxMemory(),
                    arrays ? "Java-array" : "native",
                    (System.nanoTime() - start) / 1e9,
                    PeakMemory.peakRssBytes() / 1_000_000);
        }

        /** {@code session} with the checkpoint captures of before: {@link EngineSession#capture()}'s Java arrays. */
        private static EngineSession capturingIntoArrays(EngineSession session) {
            return (EngineSession) java.lang.reflect.Proxy.newProxyInstance(
                    EngineSession.class.getClassLoader(), new Class<?>[] {EngineSession.class}, (proxy, method, a) -> {
                        if (method.getName().equals("captureForCheckpoint")) {
                            return CapturedModel.of(session.capture());
                        }
                        if (method.getName().equals("captureShardForCheckpoint")) {
                            return CapturedShard.of(session.captureShard((int) a[0], (int) a[1]));
                        }
                        try {
                            return method.invoke(session, a);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }
    }

    @Test
    void aCheckpointOfTwiceTheHeapsSizeIsWrittenUnderThatHeap() throws Exception {
        Path log = tmp.resolve("child.log");
        Process child = ChildJvm.startMain(
                log, List.of(HEAP), WriteOneCheckpoint.class, tmp.resolve("run").toString());

        int exit = ChildJvm.await(child, log);

        String output = Files.readString(log);
        assertThat(output).doesNotContain("OutOfMemoryError");
        assertThat(exit).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("written (\\d+) bytes under a heap of (\\d+) bytes")
                .matcher(output);
        assertThat(m.find()).isTrue();
        assertThat(Long.parseLong(m.group(1))).isGreaterThan(2 * Long.parseLong(m.group(2)));
    }

    /** {@code state} with every value one more. */
    private static CheckpointState shifted(CheckpointState state) {
        UnaryOperator<List<HostTensor>> plusOne = tensors -> tensors.stream()
                .map(t -> {
                    float[] data = t.data().clone();
                    for (int i = 0; i < data.length; i++) {
                        data[i] += 1;
                    }
                    return new HostTensor(t.name(), t.shape(), data);
                })
                .toList();
        return new CheckpointState(
                state.step(),
                state.dataPosition(),
                state.optimizerStep(),
                state.seed(),
                state.stagesWrittenWith(),
                state.specJson(),
                plusOne.apply(state.parameters()),
                plusOne.apply(state.buffers()),
                plusOne.apply(state.firstMoments()),
                plusOne.apply(state.secondMoments()));
    }

    /**
     * Both captures of one live session, restored from a trained checkpoint (so the moments are not zero): the
     * native one and {@link EngineSession#capture()}'s Java arrays, each written by the store.
     */
    @Test
    void theFilesWrittenFromNativeCopiesAreByteForByteTheOnesJavaArraysGive() throws Exception {
        JobSpec spec = EngineRuns.withPipeline(EngineRuns.tinyGpt(2, 0.0), 2, 1, "1f1b", false);
        Path trained = EngineRuns.train(spec, tmp.resolve("run"))
                .result()
                .lastCheckpoint()
                .orElseThrow()
                .path();
        CheckpointState restored = CheckpointStore.load(trained);
        TrainingRun run = TrainingRun.of(spec, 2, tmp.resolve("session")).withThreadsPerStage(1);
        try (EngineSession session = new TorchEngine().open(run, TrainingData.open(spec, run.dataFetcher()), 1)) {
            session.build();
            session.restore(restored);

            CapturedModel nativeCopies = session.captureForCheckpoint();
            List<CapturedShard> shardsNative = new ArrayList<>();
            for (int shard = 0; shard < 3; shard++) {
                shardsNative.add(session.captureShardForCheckpoint(shard, 3));
            }
            CapturedModel arrays = CapturedModel.of(session.capture());
            List<ModelShard> shardsArrays = new ArrayList<>();
            for (int shard = 0; shard < 3; shard++) {
                shardsArrays.add(session.captureShard(shard, 3));
            }
            // the next steps change the state while the writer writes: the copies must not follow
            session.restore(shifted(restored));

            CheckpointWritten fromNative = new CheckpointStore(tmp.resolve("native")).write(restored, nativeCopies, 0);
            nativeCopies.release();
            CheckpointWritten fromArrays = new CheckpointStore(tmp.resolve("arrays")).write(restored, arrays, 0);

            assertThat(Files.mismatch(fromNative.path(), fromArrays.path())).isEqualTo(-1);
            assertThat(Files.mismatch(fromNative.path(), trained)).isEqualTo(-1);
            for (int shard = 0; shard < 3; shard++) {
                ShardedCheckpoint.Header header =
                        new ShardedCheckpoint.Header(restored.step(), 0, 0, 0, 2, "{}", "t1 p2 d3 zero0", shard, 3);
                CheckpointWritten shardNative =
                        new CheckpointStore(tmp.resolve("native")).writeShard(header, shardsNative.get(shard), 0);
                shardsNative.get(shard).release();
                CheckpointWritten shardArrays =
                        new CheckpointStore(tmp.resolve("arrays")).writeShard(header, shardsArrays.get(shard), 0);

                assertThat(Files.mismatch(shardNative.path(), shardArrays.path()))
                        .isEqualTo(-1);
            }
        }
    }
}
