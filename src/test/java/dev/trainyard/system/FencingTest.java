package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Attempt;
import dev.trainyard.client.model.Job;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import dev.trainyard.system.support.SystemDatabase;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A runner frozen (SIGSTOP) past the heartbeat timeout is replaced; when it wakes up (SIGCONT) and reports
 * about its old attempt, the API refuses it, and the new attempt's metrics and checkpoints stay untouched.
 */
class FencingTest {
    static Platform platform;

    @BeforeAll
    static void start() {
        platform = Platform.start("fencing");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void aRunnerCutOffAndBackIsFencedOut() throws Exception {
        ManagedProcess frozen = platform.startRunner("node-a", 2);
        Job job = platform.jobs().submitJob(Specs.tinyGpt("fenced", 2, 120, 20), null);
        platform.awaitJob(
                job.getId(),
                j -> j.getProgress().getStep() >= 25
                        && !platform.jobs().listJobCheckpoints(j.getId()).isEmpty(),
                Duration.ofMinutes(3));

        frozen.pause();
        platform.startRunner("node-b", 2);
        platform.awaitJob(
                job.getId(),
                j -> platform.jobs().listJobAttempts(j.getId()).size() == 2 && "RUNNING".equals(j.getState()),
                Duration.ofMinutes(2));
        frozen.resume();

        Job done = platform.awaitJob(job.getId(), j -> j.getFinishedAt() != null, Duration.ofMinutes(3));
        assertThat(done.getState()).isEqualTo("SUCCEEDED");
        List<Attempt> attempts = platform.jobs().listJobAttempts(job.getId());
        Attempt old = attempts.get(0);
        Attempt current = attempts.get(1);
        assertThat(old.getEndReason()).startsWith("LOST");
        assertThat(current.getRunner()).isEqualTo("node-b");

        OffsetDateTime replacedAt = current.getStartedAt();
        assertThat(rowsAfter(
                        "select count(*) from metric_points where attempt_id = ? and at > ?", old.getId(), replacedAt))
                .as("late metrics of the old attempt")
                .isZero();
        assertThat(rowsAfter(
                        "select count(*) from checkpoints where attempt_id = ? and created_at > ?",
                        old.getId(),
                        replacedAt))
                .as("late checkpoints of the old attempt")
                .isZero();
        assertThat(rowsAfter(
                        "select count(*) from metric_points where attempt_id = ? and at > ?",
                        current.getId(),
                        replacedAt))
                .as("the new attempt's metrics")
                .isPositive();
        assertThat(Files.readString(frozen.log()))
                .as("the woken runner was told its attempt is gone")
                .containsAnyOf("fenced", "no longer assigned", "registering again");
    }

    private static long rowsAfter(String sql, long attemptId, OffsetDateTime at) throws Exception {
        try (Connection c = SystemDatabase.connect(platform.dbUrl());
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, attemptId);
            ps.setObject(2, at);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
