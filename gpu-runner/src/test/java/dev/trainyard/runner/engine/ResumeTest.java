package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.EngineRuns.Recorded;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.SpecDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A resumed run continues exactly where the interrupted one stopped, on the same or another stage count. */
class ResumeTest {

    private static final int K = 4;

    @TempDir
    Path tmp;

    /** Two stages, two micro-batches and dropout, so data position, step and dropout streams all matter. */
    private static JobSpec spec() {
        JobSpec spec = EngineRuns.withPipeline(EngineRuns.tinyGpt(2 * K, 0.1), 2, 2, "1f1b", false);
        return EngineRuns.withCheckpointEvery(spec, K);
    }

    @Test
    void resumeInAFreshJvmIsBitwiseEqualToAnUninterruptedRun() throws Exception {
        Recorded uninterrupted = EngineRuns.train(spec(), tmp.resolve("full"));
        Recorded firstHalf = EngineRuns.train(
                spec(),
                tmp.resolve("first"),
                Optional.empty(),
                done -> done == K ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
        assertThat(firstHalf.result().outcome()).isEqualTo(TrainingResult.Outcome.STOPPED);
        assertThat(firstHalf.result().finalStep()).isEqualTo(K);
        Path checkpoint = firstHalf.result().lastCheckpoint().orElseThrow().path();

        Path specFile = tmp.resolve("spec.json");
        Files.writeString(specFile, SpecDocument.toJson(spec()));
        Path resumedOut = tmp.resolve("resumed");
        // The natives are already unpacked by this JVM, so the child reuses the warm cache (no extraction race).
        Path log = tmp.resolve("resumed.log");
        int exit = ChildJvm.await(
                ChildJvm.start(
                        log,
                        "train",
                        "--spec",
                        specFile.toString(),
                        "--out",
                        resumedOut.toString(),
                        "--devices",
                        "2",
                        "--threads-per-stage",
                        "1",
                        "--resume",
                        checkpoint.toString()),
                log);

        assertThat(exit).isZero();
        Map<String, float[]> resumed = EngineRuns.parametersIn(resumedOut.resolve("model/model.safetensors"));
        assertThat(EngineRuns.bitwiseEqual(resumed, uninterrupted.parameters())).isTrue();
    }

    @Test
    void twoStageCheckpointResumesOnThreeStagesAndOnOne() {
        Recorded uninterrupted = EngineRuns.train(spec(), tmp.resolve("full"));
        Recorded firstHalf = EngineRuns.train(
                spec(),
                tmp.resolve("first"),
                Optional.empty(),
                done -> done == K ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
        Path checkpoint = firstHalf.result().lastCheckpoint().orElseThrow().path();

        for (int stages : new int[] {3, 1}) {
            JobSpec elastic = EngineRuns.withPipeline(spec(), stages, 2, "1f1b", false);
            Recorded resumed =
                    EngineRuns.train(elastic, tmp.resolve("on" + stages), Optional.of(checkpoint), StopSignal.never());
            assertThat(resumed.result().finalStep()).isEqualTo(2 * K);
            // Same micro-batches and one thread per stage: the same float operations, hence the same numbers.
            assertThat(resumed.losses()).isEqualTo(uninterrupted.losses().subList(K, 2 * K));
            assertThat(EngineRuns.bitwiseEqual(resumed.parameters(), uninterrupted.parameters()))
                    .isTrue();
        }
    }
}
