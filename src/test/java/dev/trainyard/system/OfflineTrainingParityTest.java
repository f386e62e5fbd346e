package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Repository;
import dev.trainyard.system.support.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One document trains the same way offline and on the platform: both fill in the spec module's defaults, so a
 * spec the API accepts ends with bitwise the same weights and optimizer state through {@code gpu-runner train}.
 */
class OfflineTrainingParityTest {
    /** Every optional key left out: batch size, micro-batches, warmup, weight decay, clipping, intervals. */
    private static final String DOCUMENT = """
            {"name": "parity", "project": "%s", "resources": {"pool": "%s", "gpus": 1},
             "model": {"type": "gpt", "layers": 2, "dModel": 32, "heads": 4, "seqLen": 16},
             "data": {"type": "arithmetic"},
             "training": {"steps": 20}}
            """.formatted(Platform.PROJECT, Platform.POOL);

    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("parity");
        platform.startRunner("node-a", 1);
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void aSpecAcceptedByTheApiTrainsBitwiseTheSameOffline() throws Exception {
        JobSpec spec = platform.client(Platform.ADMIN_TOKEN).getObjectMapper().readValue(DOCUMENT, JobSpec.class);
        Job job = platform.jobs().submitJob(spec, null);
        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));
        assertThat(done.getState()).isEqualTo("SUCCEEDED");
        Checkpoint last = platform.jobs().listJobCheckpoints(job.getId()).get(0);
        assertThat(last.getStep()).isEqualTo(20L);
        byte[] onPlatform = TrainingFlowTest.download(platform, job.getId(), last.getId(), null);

        Path offline = trainOffline();

        Map<String, byte[]> expected = SafetensorsFile.parse(onPlatform).tensors();
        Map<String, byte[]> actual =
                SafetensorsFile.parse(Files.readAllBytes(offline)).tensors();
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (String name : expected.keySet()) {
            assertThat(actual.get(name)).as(name).isEqualTo(expected.get(name));
        }
    }

    /** Runs {@code gpu-runner train} on the same document with the agent's thread setting; returns its last checkpoint. */
    private static Path trainOffline() throws Exception {
        Path dir = platform.dir().resolve("offline");
        Files.createDirectories(dir);
        Path document = Files.writeString(dir.resolve("spec.json"), DOCUMENT);
        Path out = dir.resolve("out");
        ProcessBuilder train = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx512m",
                        "-jar",
                        Repository.runnerJar().toString(),
                        "train",
                        "--spec",
                        document.toString(),
                        "--out",
                        out.toString(),
                        "--devices",
                        "1",
                        "--threads-per-stage",
                        "1"))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("train.log").toFile());
        train.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        train.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process process = train.start();
        assertThat(process.waitFor(3, TimeUnit.MINUTES))
                .as("gpu-runner train finishes")
                .isTrue();
        assertThat(process.exitValue())
                .as(Files.readString(dir.resolve("train.log")))
                .isZero();
        return out.resolve("checkpoints").resolve("step-00000020.safetensors");
    }
}
