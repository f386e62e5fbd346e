package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.EngineRuns.Recorded;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ParallelismSpec;
import dev.trainyard.spec.SpecDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replica processes (Gloo over TCP stores), each a 2-stage pipeline, train the same function as one
 * process: each replica takes half of every batch and gradients are averaged. The reference runs the same
 * micro-batch size in one process (4 micro-batches of 2 rows vs 2 replicas x 2 micro-batches of 2 rows), so
 * only the float summation order of the gradient differs; the tolerance is that of PipelineEquivalenceTest.
 */
class DataParallelTest {

    private static final int STEPS = 4;

    @TempDir
    Path tmp;

    private static JobSpec spec(int replicas, int microBatches) {
        JobSpec base = EngineRuns.tinyGpt(STEPS, 0.0);
        // Replicas balance by measured time, so they must agree on one partition of their measurements.
        String balance = replicas > 1 ? "time" : "params";
        return base.withParallelism(new ParallelismSpec(2, microBatches, "1f1b", false, replicas, balance));
    }

    @Test
    void twoReplicaProcessesMatchOneProcess() throws Exception {
        Recorded reference = EngineRuns.train(spec(1, 4), tmp.resolve("reference"));
        Path specFile = tmp.resolve("spec.json");
        Files.writeString(specFile, SpecDocument.toJson(spec(2, 2)));
        int port = StorePorts.free();

        List<Process> replicas = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            replicas.add(ChildJvm.start(
                    tmp.resolve("replica" + rank + ".log"),
                    "train",
                    "--spec",
                    specFile.toString(),
                    "--out",
                    tmp.resolve("replica" + rank).toString(),
                    "--devices",
                    "2",
                    "--threads-per-stage",
                    "1",
                    "--dp-rank",
                    Integer.toString(rank),
                    "--dp-store",
                    "127.0.0.1:" + port));
        }
        for (int rank = 0; rank < 2; rank++) {
            assertThat(ChildJvm.await(replicas.get(rank), tmp.resolve("replica" + rank + ".log")))
                    .isZero();
        }

        Map<String, float[]> rankZero = EngineRuns.parametersIn(tmp.resolve("replica0/model/model.safetensors"));
        assertThat(EngineRuns.maxAbsDifference(rankZero, reference.parameters()))
                .isLessThan(1e-4);
        assertThat(tmp.resolve("replica1/model")).doesNotExist();
    }

    /**
     * Three replicas on two processes, one holding replica 0 and the other replicas 1 and 2 (as the platform
     * places them when one runner has room for two, giving it twice the devices): the mean gradient weighs the
     * second process twice.
     */
    @Test
    void unevenReplicaProcessesMatchOneProcess() throws Exception {
        Recorded reference = EngineRuns.train(batchOf12(spec(1, 6)), tmp.resolve("reference"));
        Path specFile = tmp.resolve("spec.json");
        Files.writeString(specFile, SpecDocument.toJson(batchOf12(spec(3, 2))));
        int port = StorePorts.free();

        List<Process> processes = new ArrayList<>();
        String[] held = {"0:1", "1:2"};
        for (int rank = 0; rank < 2; rank++) {
            processes.add(ChildJvm.start(
                    tmp.resolve("process" + rank + ".log"),
                    "train",
                    "--spec",
                    specFile.toString(),
                    "--out",
                    tmp.resolve("process" + rank).toString(),
                    "--devices",
                    Integer.toString(2 * (rank + 1)),
                    "--threads-per-stage",
                    "1",
                    "--dp-rank",
                    Integer.toString(rank),
                    "--dp-processes",
                    "2",
                    "--dp-replicas",
                    held[rank],
                    "--dp-store",
                    "127.0.0.1:" + port));
        }
        for (int rank = 0; rank < 2; rank++) {
            assertThat(ChildJvm.await(processes.get(rank), tmp.resolve("process" + rank + ".log")))
                    .isZero();
        }

        Map<String, float[]> rankZero = EngineRuns.parametersIn(tmp.resolve("process0/model/model.safetensors"));
        assertThat(EngineRuns.maxAbsDifference(rankZero, reference.parameters()))
                .isLessThan(1e-4);
    }

    private static JobSpec batchOf12(JobSpec spec) {
        return spec.withTraining(spec.training().withBatchSize(12));
    }
}
