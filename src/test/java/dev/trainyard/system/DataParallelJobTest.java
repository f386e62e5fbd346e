package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainyard.client.api.RunnersApi;
import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobLogLine;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.ParallelismSpec;
import dev.trainyard.client.model.Runner;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A data-parallel job spread over two runners: two replicas of a 2-stage pipeline, one per runner (neither
 * runner has room for both). Rank 0 publishes where its stores listen, the ranks train together, only rank 0
 * reports progress, and every rank stops at the same step; when one rank's runner dies the job resumes on
 * others.
 */
class DataParallelJobTest {
    static final Pattern STOPPED = Pattern.compile("\\[rank \\d\\] stopped after step (\\d+)");
    static Platform platform;
    final List<ManagedProcess> runners = new ArrayList<>();

    @BeforeAll
    static void start() {
        platform = Platform.start("dataparallel");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    /** Stopped runners are drained at once, so that the next test's job is not placed on them. */
    @AfterEach
    void stopRunners() {
        runners.forEach(ManagedProcess::close);
        runners.clear();
        RunnersApi api = new RunnersApi(platform.client(Platform.ADMIN_TOKEN));
        for (Runner runner : api.listRunners(Platform.POOL)) {
            if ("ACTIVE".equals(runner.getState())) {
                api.drainRunner(runner.getId());
            }
        }
    }

    static JobSpec twoReplicas(String name, long steps) {
        JobSpec spec = Specs.tinyGpt(name, 4, steps, 10);
        spec.getResources().multiNode(true);
        return spec.parallelism(new ParallelismSpec()
                .stages(2)
                .dataParallel(2)
                .microBatches(2)
                .schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")));
    }

    private void runners(String... names) {
        for (String name : names) {
            runners.add(platform.startRunner(name, 2));
        }
    }

    @Test
    void twoRunnersTrainOneJobAndOnlyRankZeroReportsProgress() throws Exception {
        runners("dp-a", "dp-b");
        Job job = platform.jobs().submitJob(twoReplicas("dp-ok", 30), null);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(4));

        assertThat(done.getState()).as(done.getStateReason()).isEqualTo("SUCCEEDED");
        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        assertThat(attempts).hasSize(1);
        assertThat(attempts.get(0).getRunners()).containsExactlyInAnyOrder("dp-a", "dp-b");
        assertThat(attempts.get(0).getGpus()).isEqualTo(4);
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss)
                .extracting(SeriesPoint::getStep)
                .as("one point per step: only rank 0 reports")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, 30).boxed().toList());
        assertThat(loss.get(loss.size() - 1).getValue()).isLessThan(loss.get(0).getValue());
        assertThat(logLines(job.getId())).anyMatch(l -> l.startsWith("[rank 1] attempt 1 starting on 2 device(s)"));
        // rank 1's last lines may reach the API after rank 0 ended the attempt (then they are refused), so
        // its own log says where it stopped
        assertThat(Files.readString(runners.get(1).log())
                        + Files.readString(runners.get(0).log()))
                .contains("[rank 1] training ended at step 30 (COMPLETED)");
        List<Checkpoint> checkpoints = platform.jobs().listJobCheckpoints(job.getId());
        assertThat(checkpoints).extracting(Checkpoint::getStep).contains(30L);
    }

    /**
     * tensorParallel 2 x dataParallel 2: each runner's process holds one replica, a whole tensor-parallel pipeline
     * on its two devices, and the runners average each tensor rank's gradients (here ZeRO 2 shards) between them.
     */
    @Test
    void tensorParallelReplicasOnTwoRunnersTrainTogether() throws Exception {
        runners("tp-a", "tp-b");
        JobSpec spec = Specs.tinyGpt("dp-tp", 4, 20, 10);
        spec.getResources().multiNode(true);
        spec.parallelism(new ParallelismSpec()
                .tensorParallel(2)
                .stages(1)
                .dataParallel(2)
                .zero(2)
                .microBatches(2)
                .schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")));
        Job job = platform.jobs().submitJob(spec, null);

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(4));

        assertThat(done.getState()).as(done.getStateReason()).isEqualTo("SUCCEEDED");
        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        assertThat(attempts).hasSize(1);
        assertThat(attempts.get(0).getRunners()).containsExactlyInAnyOrder("tp-a", "tp-b");
        assertThat(attempts.get(0).getGpus()).isEqualTo(4);
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss).hasSize(20);
        assertThat(loss.get(19).getValue())
                .as("loss falls")
                .isLessThan(loss.get(0).getValue());
        String logs = Files.readString(runners.get(1).log())
                + Files.readString(runners.get(0).log());
        assertThat(logs).contains("[rank 1] training ended at step 20 (COMPLETED)");
        // each runner keeps half of the AdamW state of its two tensor ranks
        Matcher state = Pattern.compile("\\[rank 1\\] AdamW state on this process: (\\d+) bytes \\(ZeRO 2 over 2"
                        + " processes; unsharded (\\d+) bytes\\)")
                .matcher(logs);
        assertThat(state.find()).as(logs).isTrue();
        assertThat(Double.parseDouble(state.group(1)) / Double.parseDouble(state.group(2)))
                .isCloseTo(0.5, within(0.05));
        assertThat(platform.jobs().listJobCheckpoints(job.getId()))
                .extracting(Checkpoint::getStep)
                .contains(20L);
    }

    @Test
    void aCancelStopsEveryRankAtTheSameStepWithACheckpoint() throws Exception {
        runners("dp-c", "dp-d");
        Job job = platform.jobs().submitJob(twoReplicas("dp-cancel", 2_000), null);
        platform.awaitJob(job.getId(), j -> j.getProgress().getStep() >= 5, Duration.ofMinutes(3));

        platform.jobs().cancelJob(job.getId());
        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(1));

        assertThat(done.getState()).isEqualTo("CANCELLED");
        List<Long> stops = new ArrayList<>();
        for (ManagedProcess runner : runners) {
            Matcher m = STOPPED.matcher(Files.readString(runner.log()));
            while (m.find()) {
                stops.add(Long.parseLong(m.group(1)));
            }
        }
        assertThat(stops)
                .as("rank 0 and rank 1 both stopped, as their own logs say")
                .hasSize(2);
        assertThat(stops.get(0)).as("at the same step").isEqualTo(stops.get(1));
        assertThat(platform.jobs().listJobCheckpoints(job.getId()))
                .extracting(Checkpoint::getStep)
                .contains(stops.get(0));
    }

    @Test
    void whenOneRanksRunnerDiesTheJobResumesOnOtherRunners() throws Exception {
        runners("dp-e", "dp-f");
        // At ZeRO 2 each rank keeps half of the AdamW state: every checkpoint gathers it from both runners, and
        // the resumed attempt gives each of its ranks its half of the checkpoint's whole state.
        JobSpec spec = twoReplicas("dp-failover", 300);
        spec.getParallelism().zero(2);
        Job job = platform.jobs().submitJob(spec, null);
        platform.awaitJob(
                job.getId(),
                j -> !platform.jobs().listJobCheckpoints(j.getId()).isEmpty()
                        && j.getProgress().getStep() >= 12,
                Duration.ofMinutes(3));
        List<Attempt> before = platform.jobs().listJobAttempts(job.getId());
        assertThat(before).hasSize(1);
        Attempt first = before.get(0);
        String rankOne = first.getRunners().get(1);

        runners.get(rankOne.equals("dp-e") ? 0 : 1).kill9();
        runners("dp-g");
        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(4));

        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        String history = history(attempts);
        assertThat(done.getState()).as(history).isEqualTo("SUCCEEDED");
        assertThat(done.getRestarts()).as(history).isEqualTo(1);
        assertThat(attempts).as(history).hasSize(2);
        assertThat(attempts.get(0).getEndReason()).startsWith("LOST");
        assertThat(attempts.get(1).getRunners()).hasSize(2).doesNotContain(rankOne);
        assertThat(attempts.get(1).getResumedFromCheckpoint()).isNotNull();
    }

    /**
     * A rank whose peer hangs (its runner frozen, as when a machine is cut off) waits inside a collective. Once
     * the frozen runner is judged lost and the attempt ends, the waiting rank gives up at once, and its runner
     * starts the resumed attempt only after that, never two attempts on the same devices.
     */
    @Test
    void whenOneRankHangsTheOtherGivesUpAtOnceAndTheJobResumes() throws Exception {
        runners("dp-h", "dp-i");
        Job job = platform.jobs().submitJob(twoReplicas("dp-hang", 300), null);
        platform.awaitJob(
                job.getId(),
                j -> !platform.jobs().listJobCheckpoints(j.getId()).isEmpty()
                        && j.getProgress().getStep() >= 12,
                Duration.ofMinutes(3));
        Attempt first = platform.jobs().listJobAttempts(job.getId()).get(0);
        int hung = first.getRunners().get(1).equals("dp-h") ? 0 : 1;
        ManagedProcess waiting = runners.get(1 - hung);

        runners.get(hung).pause();
        runners("dp-j");
        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(4));

        assertThat(done.getState()).as(done.getStateReason()).isEqualTo("SUCCEEDED");
        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0).getEndReason()).startsWith("LOST");
        Attempt second = attempts.get(1);
        assertThat(second.getRunners())
                .hasSize(2)
                .doesNotContain(first.getRunners().get(1));
        // training resumed within moments of the loss, not after the 30 s collective timeout
        var events = platform.jobs().listJobEvents(job.getId());
        var lostAt = events.stream()
                .filter(e -> first.getId().equals(e.getAttemptId()) && "RUNNER_LOST".equals(e.getReason()))
                .findFirst()
                .orElseThrow()
                .getAt();
        var runningAt = events.stream()
                .filter(e -> second.getId().equals(e.getAttemptId()) && "RUNNING".equals(e.getToState()))
                .findFirst()
                .orElseThrow()
                .getAt();
        Duration resumedAfter = Duration.between(lostAt, runningAt);
        System.out.printf(
                "hung peer: attempt %d lost, attempt %d running %.1f s later%n",
                first.getId(), second.getId(), resumedAfter.toMillis() / 1e3);
        assertThat(resumedAfter).isLessThan(Duration.ofSeconds(15));
        // on the waiting rank's runner, the old attempt was given up before the new one started
        String log = Files.readString(waiting.log());
        int givenUp = log.indexOf("attempt " + first.getId() + " given up");
        int started = log.indexOf("started attempt " + second.getId());
        assertThat(givenUp).as("the old attempt was given up").isNotNegative();
        // only two live runners with room: the waiting one takes part in the new attempt
        assertThat(second.getRunners()).contains(first.getRunners().get(0));
        assertThat(started).as("the new attempt started after that").isGreaterThan(givenUp);
    }

    /**
     * The job's attempts once it finished, after asserting a failover's history: it SUCCEEDED in two attempts, the
     * first LOST with a runner, the second resumed from a checkpoint.
     */
    static List<Attempt> finishedAfterOneLoss(Platform platform, long jobId) {
        Job done = platform.awaitJob(jobId, j -> j.getFinishedAt() != null, Duration.ofMinutes(3));
        List<Attempt> attempts = platform.jobs().listJobAttempts(jobId);
        String history = history(attempts);
        assertThat(done.getState()).as(history).isEqualTo("SUCCEEDED");
        assertThat(attempts).as(history).hasSize(2);
        assertThat(attempts.get(0).getEndReason()).as(history).startsWith("LOST");
        assertThat(attempts.get(1).getResumedFromCheckpoint()).as(history).isNotNull();
        return attempts;
    }

    /** Each attempt's runners and how it ended, so that a failed assertion says what happened. */
    static String history(List<Attempt> attempts) {
        StringBuilder b = new StringBuilder();
        for (Attempt a : attempts) {
            b.append("\nattempt ")
                    .append(a.getNumber())
                    .append(" on ")
                    .append(a.getRunners())
                    .append(" from ")
                    .append(a.getStartedAt())
                    .append(" to ")
                    .append(a.getEndedAt())
                    .append(": ")
                    .append(a.getEndReason());
        }
        return b.toString();
    }

    private static List<String> logLines(long jobId) {
        List<String> lines = new ArrayList<>();
        Long after = null;
        while (true) {
            List<JobLogLine> page = platform.jobs().getJobLogs(jobId, after, 1000);
            if (page.isEmpty()) {
                return lines;
            }
            page.forEach(l -> lines.add(l.getLine()));
            after = page.get(page.size() - 1).getId();
        }
    }
}
