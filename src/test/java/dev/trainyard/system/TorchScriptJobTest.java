package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.client.ApiException;
import dev.trainyard.client.model.ArithmeticData;
import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.CheckpointPolicy;
import dev.trainyard.client.model.DataSpec;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobEvent;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.Limits;
import dev.trainyard.client.model.ModelSpec;
import dev.trainyard.client.model.ParallelismSpec;
import dev.trainyard.client.model.Resources;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.client.model.TorchScriptModel;
import dev.trainyard.client.model.TrainingSpec;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Repository;
import dev.trainyard.system.support.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A user's TorchScript module, named by a {@code file:} URI in a job submitted over HTTP, is trained by a runner
 * process over two pipeline stages: its loss falls, and the checkpoint the API serves and the runner's export
 * hold the module's own parameters under their block names. A module file that is not there fails the job
 * with a reason that names the file; one outside the pool's data roots is refused at submission, or, where only
 * a link leads out of them, fails on the runner.
 */
class TorchScriptJobTest {
    /** The PyTorch-made module of the engine's tests: embedding, a residual MLP block, a linear head. */
    static final Set<String> TINY_LM_PARAMETERS = Set.of(
            "blocks.0.weight",
            "blocks.1.norm.weight",
            "blocks.1.norm.bias",
            "blocks.1.up.weight",
            "blocks.1.up.bias",
            "blocks.1.down.weight",
            "blocks.1.down.bias",
            "blocks.2.weight",
            "blocks.2.bias");

    static final long STEPS = 40;
    static Platform platform;
    static Path module;

    @BeforeAll
    static void start() throws Exception {
        platform = Platform.start("torchscript");
        module = Files.copy(
                Repository.root().resolve("gpu-runner/src/test/resources/torchscript/tiny-lm.pt"),
                platform.dir().resolve("tiny-lm.pt"));
        platform.startRunner("ts-a", 2);
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    static JobSpec scripted(String name, String uri, int gpus, long steps) {
        return new JobSpec()
                .name(name)
                .project(Platform.PROJECT)
                .priority(JobSpec.PriorityEnum.fromValue("normal"))
                .resources(new Resources().pool(Platform.POOL).gpus(gpus))
                .limits(new Limits().maxRuntimeSeconds(600L).maxRestarts(1))
                .model(new ModelSpec(new TorchScriptModel()
                        .type(TorchScriptModel.TypeEnum.TORCHSCRIPT)
                        .uri(uri)
                        .seqLen(16)))
                .data(new DataSpec(new ArithmeticData()
                        .type(ArithmeticData.TypeEnum.ARITHMETIC)
                        .seed(3L)))
                .training(new TrainingSpec()
                        .steps(steps)
                        .batchSize(8)
                        .learningRate(0.01)
                        .minLearningRate(0.001)
                        .warmupSteps(2)
                        .seed(11L)
                        .evalEvery(0))
                .parallelism(new ParallelismSpec()
                        .stages(gpus)
                        .microBatches(2)
                        .schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")))
                .checkpoint(new CheckpointPolicy().everySteps(20).keepLast(2));
    }

    @Test
    void aTorchScriptModuleTrainsOverTwoStagesAndItsCheckpointKeepsTheModulesParameterNames() throws Exception {
        String uri = module.toUri().toString();
        Job job = platform.jobs().submitJob(scripted("scripted-lm", uri, 2, STEPS), null);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

        assertThat(done.getState()).as(done.getStateReason()).isEqualTo("SUCCEEDED");
        assertThat(done.getProgress().getStep()).isEqualTo(STEPS);
        assertThat(platform.jobs().listJobEvents(job.getId()))
                .extracting(JobEvent::getToState)
                .containsExactly("QUEUED", "SCHEDULED", "RUNNING", "SUCCEEDED");
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss).hasSize((int) STEPS);
        assertThat(mean(loss.subList(35, 40))).as("loss falls").isLessThan(0.7 * mean(loss.subList(0, 5)));

        List<Checkpoint> checkpoints = platform.jobs().listJobCheckpoints(job.getId());
        assertThat(checkpoints).extracting(Checkpoint::getStep).startsWith(STEPS);
        Checkpoint last = checkpoints.get(0);
        byte[] file = TrainingFlowTest.download(platform, job.getId(), last.getId(), null);
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file)))
                .isEqualTo(last.getSha256());
        SafetensorsFile checkpoint = SafetensorsFile.parse(file);
        assertThat(checkpoint.metadata())
                .containsEntry("step", Long.toString(STEPS))
                .containsEntry("stages", "2");
        JsonNode trainedModel =
                new ObjectMapper().readTree(checkpoint.metadata().get("spec")).get("model");
        assertThat(trainedModel.get("type").asText())
                .as("the spec the runner trained")
                .isEqualTo("torchscript");
        assertThat(trainedModel.get("uri").asText()).isEqualTo(uri);
        assertThat(trainedModel.get("seqLen").asInt()).isEqualTo(16);
        assertThat(namesUnder(checkpoint, "param/")).isEqualTo(TINY_LM_PARAMETERS);

        Path export = exportedModel();
        assertThat(namesUnder(SafetensorsFile.parse(Files.readAllBytes(export.resolve("model.safetensors"))), ""))
                .isEqualTo(TINY_LM_PARAMETERS);
        assertThat(export.resolve("model.pt"))
                .as("the trained module, for torch.jit.load")
                .isNotEmptyFile();
    }

    @Test
    void aModuleFileThatIsNotThereFailsTheJobWithAReasonNamingIt() {
        Path missing = platform.dir().resolve("no-such-model.pt");
        Job job = platform.jobs()
                .submitJob(scripted("scripted-missing", missing.toUri().toString(), 1, 5), null);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(2));

        assertThat(done.getState()).isEqualTo("FAILED");
        assertThat(done.getStateReason()).isEqualTo("TRAINING_FAILED");
        List<JobEvent> events = platform.jobs().listJobEvents(job.getId());
        JobEvent failed = events.get(events.size() - 1);
        assertThat(failed.getToState()).isEqualTo("FAILED");
        assertThat(failed.getMessage())
                .as("what the user reads on the job's last event")
                .contains("model.uri")
                .contains(missing.toUri().toString())
                .contains("no such file");
        assertThat(platform.jobs().listJobAttempts(job.getId()))
                .singleElement()
                .satisfies(a -> assertThat(a.getEndReason()).contains("no-such-model.pt"));
        assertThat(done.getRestarts())
                .as("a missing file is no reason to retry")
                .isZero();
        assertThat(platform.jobs().listJobCheckpoints(job.getId())).isEmpty();
    }

    @Test
    void aModuleOutsideThePoolsDataRootsIsRefusedAtSubmissionNamingTheFieldAndTheRule() {
        assertThatThrownBy(
                        () -> platform.jobs().submitJob(scripted("scripted-passwd", "file:///etc/passwd", 1, 5), null))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(403);
                    assertThat(e.getResponseBody())
                            .contains("/problems/data-access-denied")
                            .contains("\"field\":\"model.uri\"")
                            .contains("rule outside-data-roots");
                });
        assertThat(platform.jobs()
                        .listJobs(null, null, "scripted-passwd", null, null, null)
                        .getItems())
                .as("nothing was stored")
                .isEmpty();
    }

    @Test
    void aLinkInsideTheDataRootThatLeadsOutOfItFailsTheJobOnTheRunner() throws Exception {
        Path outside = Repository.root().resolve("gpu-runner/src/test/resources/torchscript/tiny-lm.pt");
        Path link = Files.createSymbolicLink(platform.dir().resolve("escape.pt"), outside);
        Job job = platform.jobs()
                .submitJob(scripted("scripted-escape", link.toUri().toString(), 1, 5), null);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(2));

        assertThat(done.getState()).isEqualTo("FAILED");
        List<JobEvent> events = platform.jobs().listJobEvents(job.getId());
        assertThat(events.get(events.size() - 1).getMessage())
                .contains("model.uri")
                .contains("rule outside-data-roots")
                .contains("through a link");
        assertThat(platform.jobs().listJobCheckpoints(job.getId())).isEmpty();
    }

    private static double mean(List<SeriesPoint> points) {
        return points.stream().mapToDouble(SeriesPoint::getValue).average().orElseThrow();
    }

    private static Set<String> namesUnder(SafetensorsFile file, String prefix) {
        return file.tensors().keySet().stream()
                .filter(n -> n.startsWith(prefix))
                .map(n -> n.substring(prefix.length()))
                .collect(Collectors.toSet());
    }

    /** The runner exports the final weights into its attempt's output folder, which the test can read. */
    private static Path exportedModel() throws Exception {
        try (Stream<Path> files = Files.walk(platform.dir().resolve("runner-ts-a"))) {
            List<Path> exports = files.filter(p -> p.endsWith(Path.of("model", "model.safetensors")))
                    .toList();
            assertThat(exports).as("one successful attempt, one export").hasSize(1);
            return exports.get(0).getParent();
        }
    }
}
