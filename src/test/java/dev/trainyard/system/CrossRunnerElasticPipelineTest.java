package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobEvent;
import dev.trainyard.client.model.JobSpec;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An elastic job of two replicas of a 2-stage pipeline (at least one replica, ZeRO 1) on four runners of one device
 * each: it starts on both replicas, each cut over two runners. When one runner is killed, the job resumes from its
 * last checkpoint on the two runners of one cut replica (three are left, and half a replica is of no use), each
 * process then training both replicas' rows, so the global batch stays 16 rows. When a runner joins, the job grows
 * back to both cut replicas, and it finishes with the loss falling.
 */
class CrossRunnerElasticPipelineTest {
    static final long STEPS = 400;
    static final int BATCH = 16;
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("xelastic");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void shrinksToOneCutReplicaWhenARunnerDiesAndGrowsBackWhenOneJoins() {
        Map<String, ManagedProcess> runners = new HashMap<>();
        for (String name : List.of("ce-a", "ce-b", "ce-c", "ce-d")) {
            runners.put(name, platform.startRunner(name, 1));
        }
        platform.awaitActiveRunners(4);
        JobSpec spec = Specs.cutReplicas("cross-runner-elastic", 1, 1, STEPS, 10);
        spec.getResources().minGpus(2);
        Job job = platform.jobs().submitJob(spec, null);
        platform.awaitJob(
                job.getId(),
                j -> j.getProgress().getStep() >= 10
                        && !platform.jobs().listJobCheckpoints(j.getId()).isEmpty(),
                Duration.ofMinutes(2));
        assertThat(platform.jobs().listJobAttempts(job.getId()))
                .singleElement()
                .satisfies(a -> assertThat(a.getGpus()).as("both cut replicas").isEqualTo(4));

        // rank 3: replica 1's last stage
        runners.get("ce-d").kill9();
        platform.awaitJob(job.getId(), CrossRunnerElasticPipelineTest::shortAndTraining, Duration.ofMinutes(2));
        platform.startRunner("ce-e", 1);
        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));

        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        String history = DataParallelJobTest.history(attempts);
        assertThat(done.getState()).as(history).isEqualTo("SUCCEEDED");
        assertThat(attempts).extracting(Attempt::getGpus).as(history).containsExactly(4, 2, 4);
        assertThat(attempts.get(0).getEndReason()).as(history).startsWith("LOST");
        assertThat(attempts.get(1).getRunners()).as(history).hasSize(2).doesNotContain("ce-d");
        assertThat(attempts.get(2).getRunners()).as(history).hasSize(4).contains("ce-e");
        assertThat(attempts.get(1).getResumedFromCheckpoint()).isNotNull();
        assertThat(attempts.get(2).getResumedFromCheckpoint()).isNotNull();
        assertThat(platform.jobs().listJobEvents(job.getId()))
                .filteredOn(e -> "RESIZED".equals(e.getReason()))
                .extracting(JobEvent::getMessage)
                .contains("Resized from 2 to 4 devices");

        List<String> lines = ElasticJobTest.logLines(platform, job.getId());
        assertThat(lines)
                .as("attempt 2 resumed from the four processes' shards, on one cut replica holding both replicas")
                .anyMatch(l -> l.contains("attempt 2 starting") && l.contains(".shard-0-of-4.safetensors"))
                .anyMatch(l -> l.startsWith("[rank 0] attempt 2 starting on 1 device(s), replicas 0-1 of 2")
                        && l.contains("pipeline stages 0-0 of 2 (pipeline rank 0 of 2)"))
                .anyMatch(l -> l.startsWith("[rank 1] attempt 2 starting on 1 device(s), replicas 0-1 of 2")
                        && l.contains("pipeline stages 1-1 of 2 (pipeline rank 1 of 2)"))
                .anyMatch(l -> l.startsWith("[rank 3] attempt 3 starting on 1 device(s), replicas 1-1 of 2")
                        && l.contains("pipeline rank 1 of 2"));
        // the global batch: each attempt's pipeline-rank-0 processes together train the spec's 16 rows per step
        Map<Integer, List<int[]>> byAttempt = new HashMap<>();
        Map<Integer, List<int[]>> all = ElasticJobTest.replicasByAttempt(platform, job.getId(), BATCH);
        for (String line : lines) {
            if (line.contains("pipeline rank 0 of 2")) {
                Matcher m = ElasticJobTest.STARTING.matcher(line);
                if (m.find()) {
                    byAttempt
                            .computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>())
                            .add(new int[] {Integer.parseInt(m.group(5))});
                }
            }
        }
        assertThat(all).containsOnlyKeys(1, 2, 3);
        assertThat(byAttempt).containsOnlyKeys(1, 2, 3);
        byAttempt.forEach((attempt, ranks) -> {
            assertThat(ranks).as("attempt %d's replica processes", attempt).hasSize(attempt == 2 ? 1 : 2);
            assertThat(ranks.stream().mapToInt(r -> r[0]).sum())
                    .as("attempt %d trains the whole batch per step", attempt)
                    .isEqualTo(BATCH);
        });
        List<SeriesPoint> loss = platform.points(job.getId(), "loss");
        assertThat(loss.get(loss.size() - 1).getStep()).isEqualTo(STEPS);
        assertThat(loss.get(loss.size() - 1).getValue()).isLessThan(loss.get(0).getValue());
    }

    /** The second attempt runs on one cut replica and has trained beyond where it resumed. */
    private static boolean shortAndTraining(Job job) {
        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        if (attempts.size() != 2 || !"RUNNING".equals(job.getState())) {
            return false;
        }
        Attempt second = attempts.get(1);
        Long resumed = second.getResumedFromCheckpoint();
        long from = platform.jobs().listJobCheckpoints(job.getId()).stream()
                .filter(c -> c.getId().equals(resumed))
                .findFirst()
                .map(c -> c.getStep())
                .orElse(Long.MAX_VALUE / 2);
        return second.getGpus() == 2 && job.getProgress().getStep() >= from + 10;
    }
}
