package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobEvent;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.MetricSeries;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.SafetensorsFile;
import dev.trainyard.system.support.Specs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The platform's main job: a job submitted over HTTP is trained by a runner process and streams results back. */
class TrainingFlowTest {
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("flow");
        platform.startRunner("node-a", 2);
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void aSubmittedJobIsTrainedToSuccessWithMetricsAndADownloadableCheckpoint() throws Exception {
        Job job = platform.jobs().submitJob(Specs.tinyGpt("flow", 2, 60, 20), null);
        String runnerGauge = "trainyard_runner_tokens_per_second{runner=\"node-a\",job=\"" + job.getId() + "\"";
        String runnerMetrics = scrapeWhileTraining(platform.runnerMetricsUrl("node-a"), runnerGauge);
        String apiMetrics = get(platform.baseUrl() + "/q/metrics");
        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

        assertThat(done.getState()).isEqualTo("SUCCEEDED");
        assertThat(done.getProgress().getStep()).isEqualTo(60L);
        assertThat(runnerMetrics)
                .as("the runner's own metrics while it trained")
                .contains(runnerGauge);
        assertThat(apiMetrics)
                .contains("trainyard_gpus_allocated{pool=\"cpu\"}")
                .contains("trainyard_jobs{state=\"RUNNING\"}")
                .contains("trainyard_scheduler_cycle_seconds");
        assertThat(done.getCost().getAccruedUsd()).isPositive();
        assertThat(platform.jobs().listJobEvents(job.getId()))
                .extracting(JobEvent::getToState)
                .containsExactly("QUEUED", "SCHEDULED", "RUNNING", "SUCCEEDED");

        List<SeriesPoint> loss = series(job.getId(), "loss");
        assertThat(loss).hasSize(60);
        double early = loss.subList(0, 5).stream()
                .mapToDouble(SeriesPoint::getValue)
                .average()
                .orElseThrow();
        double late = loss.subList(55, 60).stream()
                .mapToDouble(SeriesPoint::getValue)
                .average()
                .orElseThrow();
        assertThat(late).as("loss falls").isLessThan(early * 0.75);
        List<SeriesPoint> evalLoss = series(job.getId(), "eval_loss");
        assertThat(evalLoss).isNotEmpty();

        List<Checkpoint> checkpoints = platform.jobs().listJobCheckpoints(job.getId());
        assertThat(checkpoints).extracting(Checkpoint::getStep).startsWith(60L);
        Checkpoint last = checkpoints.get(0);
        SeriesPoint lastEval = evalLoss.get(evalLoss.size() - 1);
        assertThat(lastEval.getStep()).isEqualTo(60L);
        assertThat(last.getEvalLoss())
                .as("the checkpoint carries the eval loss of its step")
                .isEqualTo(lastEval.getValue());
        byte[] file = download(job.getId(), last.getId(), null);
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file)))
                .isEqualTo(last.getSha256());
        assertThat(SafetensorsFile.parse(file).metadata()).containsEntry("step", "60");
        byte[] part = download(job.getId(), last.getId(), "bytes=8-15");
        assertThat(part).containsExactly(java.util.Arrays.copyOfRange(file, 8, 16));
    }

    @Test
    void aTensorParallelJobTrainsOnTheRunnersTwoDevicesAndCheckpointsWholeTensors() throws Exception {
        JobSpec spec = Specs.tinyGpt("flow-tp", 2, 20, 20);
        spec.getParallelism().tensorParallel(2);
        Job job = platform.jobs().submitJob(spec, null);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

        assertThat(done.getState()).as(done.getStateReason()).isEqualTo("SUCCEEDED");
        assertThat(done.getProgress().getStep()).isEqualTo(20L);
        List<SeriesPoint> loss = series(job.getId(), "loss");
        assertThat(loss).hasSize(20);
        assertThat(loss.get(19).getValue())
                .as("loss falls")
                .isLessThan(loss.get(0).getValue());
        Checkpoint last = platform.jobs().listJobCheckpoints(job.getId()).get(0);
        SafetensorsFile checkpoint = SafetensorsFile.parse(download(job.getId(), last.getId(), null));
        // whole QKV weight [3 x dModel, dModel] of float32, as a single-device run writes it, not one rank's half
        assertThat(checkpoint.tensors().get("param/blocks.1.attn.qkv.weight")).hasSize(3 * 32 * 32 * 4);
        assertThat(checkpoint.tensors().get("param/blocks.0.tok_emb.weight")).hasSize(128 * 32 * 4);
        // each rank's training state, measured from its tensors after the first step, is what the plan says it is
        for (String rank : List.of("rank0", "rank1")) {
            String prefix = "memory.stage0." + rank;
            List<SeriesPoint> measured = series(job.getId(), prefix + ".state_bytes");
            List<SeriesPoint> planned = series(job.getId(), prefix + ".plan_state_bytes");
            assertThat(measured).as(prefix).hasSize(1);
            assertThat(measured.get(0).getStep()).isEqualTo(1L);
            assertThat(measured.get(0).getValue())
                    .as(prefix)
                    .isEqualTo(planned.get(0).getValue());
            assertThat(series(job.getId(), prefix + ".plan_bytes").get(0).getValue())
                    .isGreaterThan(planned.get(0).getValue());
        }
    }

    @Test
    void downsampledMetricsKeepTheExtremes() {
        Job job = platform.jobs().submitJob(Specs.tinyGpt("downsample", 1, 40, 40), null);
        platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));
        List<SeriesPoint> all = series(job.getId(), "loss");
        List<SeriesPoint> few = platform.jobs()
                .getJobMetrics(job.getId(), null, "loss", 10, null)
                .getSeries()
                .get(0)
                .getPoints();
        assertThat(few.size()).isLessThanOrEqualTo(10).isLessThan(all.size());
        double max = all.stream().mapToDouble(SeriesPoint::getValue).max().orElseThrow();
        double min = all.stream().mapToDouble(SeriesPoint::getValue).min().orElseThrow();
        assertThat(few).extracting(SeriesPoint::getValue).contains(max, min);
    }

    @Test
    void aJobWhoseLossDivergesEndsFailedWithTheStepAndTheLossKeepingOnlyCheckpointsBeforeIt() {
        JobSpec spec = Specs.tinyGpt("diverges", 1, 200, 1);
        // AdamW moves every weight by about the learning rate on the first step: 10 blows the logits up at once.
        spec.getTraining().learningRate(10.0).gradClip(0.0).divergenceFactor(1.5);
        Job job = platform.jobs().submitJob(spec, null);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

        assertThat(done.getState()).isEqualTo("FAILED");
        assertThat(done.getStateReason()).isEqualTo("TRAINING_DIVERGED");
        List<JobEvent> events = platform.jobs().listJobEvents(job.getId());
        JobEvent last = events.get(events.size() - 1);
        String why = last.getMessage();
        Matcher diverged = Pattern.compile(
                        "training diverged at step (\\d+): the loss (is NaN|is Infinity|\\S+ is more)")
                .matcher(why);
        assertThat(diverged.find()).as(why).isTrue();
        long step = Long.parseLong(diverged.group(1));
        // the step and the loss are data a client reads, in the job and in its ending event
        assertThat(last.getReason()).isEqualTo("TRAINING_DIVERGED");
        assertThat(last.getDivergence()).isEqualTo(done.getDivergence());
        assertThat(done.getDivergence().getStep()).isEqualTo(step);
        assertThat(done.getDivergence().getLoss() != null
                        || done.getDivergence().getNonFinite() != null)
                .as("a finite loss or a named non-finite one")
                .isTrue();
        if (done.getDivergence().getLoss() != null) {
            assertThat(why).contains("the loss " + done.getDivergence().getLoss() + " is more");
        }
        assertThat(platform.jobs().listJobCheckpoints(job.getId()))
                .as("checkpoints of the steps before the diverged one only")
                .extracting(Checkpoint::getStep)
                .allMatch(s -> s < step);
    }

    @Test
    void aJobAtItsRuntimeLimitCheckpointsStopsAndEndsFailedWithThatReason() {
        JobSpec spec = Specs.tinyGpt("runs-long", 1, 1_000_000, 100_000);
        spec.getLimits().maxRuntimeSeconds(5L);
        Job job = platform.jobs().submitJob(spec, null);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(2));

        assertThat(done.getState()).isEqualTo("FAILED");
        assertThat(done.getStateReason()).isEqualTo("RUNTIME_LIMIT_REACHED");
        assertThat(done.getRestarts()).isZero();
        assertThat(platform.jobs().listJobEvents(job.getId()))
                .extracting(JobEvent::getReason)
                .containsSubsequence("STARTED", "RUNTIME_LIMIT_STOP_REQUESTED", "RUNTIME_LIMIT_REACHED");
        assertThat(platform.jobs().listJobCheckpoints(job.getId()))
                .as("the checkpoint written on the stop request")
                .extracting(Checkpoint::getStep)
                .singleElement()
                .satisfies(step -> assertThat(step).isPositive().isLessThan(1_000_000L));
    }

    private static String get(String url) throws Exception {
        return HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static List<SeriesPoint> series(long jobId, String name) {
        List<MetricSeries> series =
                platform.jobs().getJobMetrics(jobId, null, name, 10_000, null).getSeries();
        return series.isEmpty() ? List.of() : series.get(0).getPoints();
    }

    static byte[] download(long jobId, long checkpointId, String range) throws Exception {
        return download(platform, jobId, checkpointId, range);
    }

    static byte[] download(Platform platform, long jobId, long checkpointId, String range) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(
                        platform.baseUrl() + "/api/v1/jobs/" + jobId + "/checkpoints/" + checkpointId + "/content"))
                .header("Authorization", "Bearer " + Platform.ADMIN_TOKEN);
        if (range != null) {
            b.header("Range", range);
        }
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(range == null ? 200 : 206);
        return r.body();
    }

    /**
     * Scrapes {@code url} from submission on until it shows {@code line}: a warm runner trains the whole tiny job
     * between two polls of its progress, so one scrape after "step 5" could come after training ended.
     */
    private static String scrapeWhileTraining(String url, String line) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        String scraped = get(url);
        while (!scraped.contains(line) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            scraped = get(url);
        }
        return scraped;
    }
}
