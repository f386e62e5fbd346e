package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.EngineRuns.Recorded;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A resumed run continues exactly where the interrupted one stopped, on the same or another stage count. */
class ResumeTest {

  private static final int K = 4;

  @TempDir Path tmp;

  /** Two stages, two micro-batches and dropout, so data position, step and dropout streams all matter. */
  private static JobSpec spec() {
    JobSpec spec = EngineRuns.withPipeline(EngineRuns.tinyGpt(2 * K, 0.1), 2, 2, "1f1b", false);
    return EngineRuns.withCheckpointEvery(spec, K);
  }

  @Test
  void resumeInAFreshJvmIsBitwiseEqualToAnUninterruptedRun() throws Exception {
    Recorded uninterrupted = EngineRuns.train(spec(), tmp.resolve("full"));
    Recorded firstHalf = EngineRuns.train(spec(), tmp.resolve("first"), Optional.empty(),
        done -> done == K ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
    assertThat(firstHalf.result().outcome()).isEqualTo(TrainingResult.Outcome.STOPPED);
    assertThat(firstHalf.result().finalStep()).isEqualTo(K);
    Path checkpoint = firstHalf.result().lastCheckpoint().orElseThrow().path();

    Path specFile = tmp.resolve("spec.json");
    Files.writeString(specFile, spec().toJson());
    Path resumedOut = tmp.resolve("resumed");
    int exit = runInFreshJvm("train", "--spec", specFile.toString(), "--out", resumedOut.toString(),
        "--devices", "2", "--threads-per-stage", "1", "--resume", checkpoint.toString());

    assertThat(exit).isZero();
    Map<String, float[]> resumed = EngineRuns.parametersIn(resumedOut.resolve("model/model.safetensors"));
    assertThat(EngineRuns.bitwiseEqual(resumed, uninterrupted.parameters())).isTrue();
  }

  @Test
  void twoStageCheckpointResumesOnThreeStagesAndOnOne() {
    Recorded uninterrupted = EngineRuns.train(spec(), tmp.resolve("full"));
    Recorded firstHalf = EngineRuns.train(spec(), tmp.resolve("first"), Optional.empty(),
        done -> done == K ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE);
    Path checkpoint = firstHalf.result().lastCheckpoint().orElseThrow().path();

    for (int stages : new int[] {3, 1}) {
      JobSpec elastic = EngineRuns.withPipeline(spec(), stages, 2, "1f1b", false);
      Recorded resumed = EngineRuns.train(elastic, tmp.resolve("on" + stages), Optional.of(checkpoint),
          StopSignal.never());
      assertThat(resumed.result().finalStep()).isEqualTo(2 * K);
      // Same micro-batches and one thread per stage: the same float operations, hence the same numbers.
      assertThat(resumed.losses()).isEqualTo(uninterrupted.losses().subList(K, 2 * K));
      assertThat(EngineRuns.bitwiseEqual(resumed.parameters(), uninterrupted.parameters())).isTrue();
    }
  }

  private static int runInFreshJvm(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dorg.bytedeco.javacpp.maxPhysicalBytes=0");
    // The natives are already unpacked by this JVM, so the child reuses the warm cache (no extraction race).
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.trainyard.runner.RunnerMain");
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    builder.environment().put("OPENBLAS_NUM_THREADS", "1");
    File log = Files.createTempFile("resume", ".log").toFile();
    Process process = builder.redirectOutput(log).start();
    if (!process.waitFor(5, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("resumed run did not finish: " + Files.readString(log.toPath()));
    }
    if (process.exitValue() != 0) {
      System.out.println(Files.readString(log.toPath()));
    }
    return process.exitValue();
  }
}
