package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobEvent;
import dev.trainyard.client.model.JobLogLine;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.client.model.ParallelismSpec;
import dev.trainyard.client.model.SeriesPoint;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An elastic data-parallel job (two replicas of one device, at least one, ZeRO 1) starts on the only runner, grows
 * onto a second runner when it registers, and comes back on the first alone when the second is killed. Every phase
 * trains the same global batch: the ranks' replicas and rows always add up to the whole job's. On two runners each
 * rank writes and uploads its own shard of every checkpoint; after the kill -9 the runner left resumes from such a
 * two-shard checkpoint, half of which the dead runner wrote.
 */
class ElasticJobTest {
    /** "[rank 0] attempt 2 starting on 1 device(s), replicas 0-0 of 2 (8 of the batch's 16 rows)" */
    static final Pattern STARTING = Pattern.compile(
            "attempt (\\d+) starting on \\d+ device\\(s\\), replicas (\\d+)-(\\d+) of (\\d+) \\((\\d+) of the batch's"
                    + " (\\d+) rows\\)");

    static final long STEPS = 800;
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("elastic");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    static JobSpec elasticTwoReplicas(String name, long steps) {
        JobSpec spec = Specs.tinyGpt(name, 2, steps, 10);
        spec.getResources().minGpus(1).multiNode(true);
        return spec.parallelism(new ParallelismSpec()
                .dataParallel(2)
                .zero(1)
                .microBatches(2)
                .schedule(ParallelismSpec.ScheduleEnum.fromValue("1f1b")));
    }

    @Test
    void startsShortGrowsOntoANewRunnerAndShrinksBackWhenItIsKilled() {
        platform.startRunner("el-a", 1);
        Job job = platform.jobs().submitJob(elasticTwoReplicas("elastic", STEPS), null);
        platform.awaitJob(
                job.getId(),
                j -> j.getProgress().getStep() >= 10
                        && !platform.jobs().listJobCheckpoints(j.getId()).isEmpty(),
                Duration.ofMinutes(2));
        assertThat(platform.jobs().listJobAttempts(job.getId()))
                .singleElement()
                .satisfies(
                        a -> assertThat(a.getGpus()).as("one replica's device").isEqualTo(1));

        ManagedProcess second = platform.startRunner("el-b", 1);
        platform.awaitJob(
                job.getId(), j -> grownAndTraining(j) && hasCompleteShardedCheckpoint(j), Duration.ofMinutes(2));
        second.kill9();
        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        String history = DataParallelJobTest.history(attempts);
        assertThat(done.getState()).as(history).isEqualTo("SUCCEEDED");
        assertThat(attempts).as(history).hasSize(3);
        assertThat(attempts).extracting(Attempt::getGpus).as(history).containsExactly(1, 2, 1);
        assertThat(attempts.get(0).getRunners()).containsExactly("el-a");
        assertThat(attempts.get(1).getRunners()).containsExactlyInAnyOrder("el-a", "el-b");
        assertThat(attempts.get(2).getRunners()).containsExactly("el-a");
        assertThat(attempts.get(1).getEndReason()).as(history).startsWith("LOST");
        assertThat(attempts.get(1).getResumedFromCheckpoint()).isNotNull();
        assertThat(attempts.get(2).getResumedFromCheckpoint()).isNotNull();
        Checkpoint resumedFrom = platform.jobs().listJobCheckpoints(job.getId()).stream()
                .filter(c -> c.getId().equals(attempts.get(2).getResumedFromCheckpoint()))
                .findFirst()
                .orElse(null);
        if (resumedFrom != null) { // retention may have removed it since; the log line below says it either way
            assertThat(resumedFrom.getShardCount())
                    .as("written by both runners")
                    .isEqualTo(2);
            assertThat(resumedFrom.getAttemptId()).isEqualTo(attempts.get(1).getId());
        }
        assertThat(logLines(platform, job.getId()))
                .as("the runner left resumed from the two ranks' shards")
                .anyMatch(line -> line.contains("attempt 3 starting") && line.contains(".shard-0-of-2.safetensors"));
        assertThat(done.getRestarts())
                .as("the growth used no restart, the lost runner one")
                .isEqualTo(1);
        assertThat(platform.jobs().listJobEvents(job.getId()))
                .filteredOn(e -> "RESIZED".equals(e.getReason()))
                .extracting(JobEvent::getMessage)
                .containsExactly("Resized from 1 to 2 devices", "Resized from 2 to 1 devices");

        Map<Integer, List<int[]>> ranksByAttempt = replicasByAttempt(platform, job.getId(), 16);
        assertThat(ranksByAttempt)
                .as("every attempt logged its ranks' replicas")
                .containsOnlyKeys(1, 2, 3);
        ranksByAttempt.forEach((attempt, ranks) -> {
            assertThat(ranks).as("attempt " + attempt).hasSize(attempt == 2 ? 2 : 1);
            assertThat(ranks.stream().mapToInt(r -> r[1] - r[0] + 1).sum())
                    .as("attempt " + attempt + " holds both replicas")
                    .isEqualTo(2);
            assertThat(ranks.stream().mapToInt(r -> r[2]).sum())
                    .as("attempt " + attempt + " trains the whole batch of 16 rows per step")
                    .isEqualTo(16);
        });
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss.get(loss.size() - 1).getStep()).isEqualTo(STEPS);
        assertThat(loss.get(loss.size() - 1).getValue()).isLessThan(loss.get(0).getValue());
    }

    /** The second attempt (on both runners) has made progress beyond where it resumed. */
    private static boolean grownAndTraining(Job job) {
        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        if (attempts.size() < 2 || !"RUNNING".equals(job.getState())) {
            return false;
        }
        Attempt grown = attempts.get(1);
        return grown.getRunners().size() == 2
                && grown.getResumedFromCheckpoint() != null
                && job.getProgress().getStep() >= stepOf(job.getId(), grown) + 10;
    }

    /** A checkpoint written by the grown attempt's two ranks, each shard uploaded by its own runner. */
    private static boolean hasCompleteShardedCheckpoint(Job job) {
        return platform.jobs().listJobCheckpoints(job.getId()).stream()
                .anyMatch(c -> c.getShardCount() != null
                        && c.getShardCount() == 2
                        && c.getShards().size() == 2);
    }

    private static long stepOf(long jobId, Attempt attempt) {
        return platform.jobs().listJobCheckpoints(jobId).stream()
                .filter(c -> c.getId().equals(attempt.getResumedFromCheckpoint()))
                .findFirst()
                .map(c -> c.getStep())
                .orElse(Long.MAX_VALUE / 2);
    }

    /**
     * Per attempt number, each rank's first replica, last replica and rows of the batch, from the job's log; every
     * line names the job's global batch of {@code batch} rows.
     */
    static Map<Integer, List<int[]>> replicasByAttempt(Platform platform, long jobId, int batch) {
        Map<Integer, List<int[]>> out = new HashMap<>();
        for (String line : logLines(platform, jobId)) {
            Matcher m = STARTING.matcher(line);
            if (m.find()) {
                assertThat(Integer.parseInt(m.group(6))).as(line).isEqualTo(batch);
                out.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>())
                        .add(new int[] {
                            Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), Integer.parseInt(m.group(5))
                        });
            }
        }
        return out;
    }

    static List<String> logLines(Platform platform, long jobId) {
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
