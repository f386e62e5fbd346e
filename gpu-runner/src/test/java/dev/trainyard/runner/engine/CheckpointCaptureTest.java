package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.torch.TorchEngine;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.SpecDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
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

    /** A gpt of about 12.7M parameters: its state (parameters and two AdamW moments) is about 150 MB. */
    static JobSpec largerThanTheHeap() {
        return SpecDocument.parseForTraining("""
        {"name": "heap-probe",
         "model": {"type": "gpt", "layers": 4, "dModel": 512, "heads": 8, "seqLen": 16, "vocab": 128,
                   "dropout": 0.0},
         "data": {"type": "arithmetic", "seed": 3, "evalFraction": 0.1},
         "training": {"steps": 3, "batchSize": 2, "learningRate": 0.003, "warmupSteps": 1,
                      "weightDecay": 0.01, "gradClip": 1.0, "seed": 11, "evalEvery": 0},
         "checkpoint": {"everySteps": 1, "keepLast": 2},
         "parallelism": {"microBatches": 1}}
        """);
    }

    /** Trains one step, checkpoints and stops in this JVM, and prints the checkpoint's size and the heap's. */
    public static final class WriteOneCheckpoint {

        public static void main(String[] args) {
            TrainingRun run = TrainingRun.of(largerThanTheHeap(), 1, Path.of(args[0]))
                    .withThreadsPerStage(1)
                    .stoppingOn(done -> done == 1 ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
            TrainingResult result = Trainer.train(run, new TorchEngine());
            CheckpointWritten written = result.lastCheckpoint().orElseThrow();
            System.out.printf(
                    "written %d bytes under a heap of %d bytes%n",
                    written.bytes(), Runtime.getRuntime().maxMemory());
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

    @Test
    void theFileWrittenFromNativeCopiesIsByteForByteTheOneJavaArraysGive() throws Exception {
        JobSpec spec = EngineRuns.withCheckpointEvery(EngineRuns.tinyGpt(2, 0.0), 2);
        CheckpointWritten written = EngineRuns.train(spec, tmp.resolve("run"), Optional.empty(), StopSignal.never())
                .result()
                .lastCheckpoint()
                .orElseThrow();
        CheckpointState state = CheckpointStore.load(written.path());

        CheckpointWritten fromArrays = new CheckpointStore(tmp.resolve("arrays")).write(state, written.evalLoss());

        assertThat(state.parameters()).isNotEmpty();
        assertThat(fromArrays.sha256()).isEqualTo(written.sha256());
        assertThat(Files.mismatch(fromArrays.path(), written.path())).isEqualTo(-1);
    }
}
