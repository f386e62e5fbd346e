package dev.trainyard.api.scheduling;

import static dev.trainyard.api.scheduling.Rows.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.lifecycle.AttemptEnder;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Silent runners are declared lost only when they really had a chance to speak, attempts at their runtime limit
 * are asked to stop, and stuck stops end anyway.
 */
class RunnerRescuerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Duration GRACE = Duration.ofSeconds(30);

    private Connection c;
    private Rows rows;
    private long pool;
    private long project;

    @BeforeEach
    void open() throws Exception {
        SchedulingDatabase.empty();
        c = SchedulingDatabase.connect();
        rows = new Rows(c);
        pool = rows.pool("a100", "2");
        project = rows.project(null);
    }

    @AfterEach
    void close() throws Exception {
        c.close();
    }

    private RunnerRescuer.Rescued run(Instant now, Instant watchingSince) throws Exception {
        c.setAutoCommit(false);
        try {
            RunnerRescuer.Rescued rescued = RunnerRescuer.run(c, now, watchingSince, TIMEOUT, GRACE);
            c.commit();
            return rescued;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private String runnerState(long runner) throws Exception {
        return rows.text("select state from runners where id = ?", runner);
    }

    @Test
    void aRunnerSilentBeforeTheLeaderStartedWatchingGetsAWholeTimeoutToSpeak() throws Exception {
        // The API was down for ten minutes; the runner's last heartbeat is from before that.
        long runner = rows.runner(pool).heartbeatAt(T0.minusSeconds(600)).insert();
        long job = rows.job(project).state("RUNNING").insert();
        long attempt = rows.attempt(job).on(runner, 2).insert();

        assertThat(run(T0.plusSeconds(30), T0).lostRunners()).isZero();
        assertThat(run(T0.plus(TIMEOUT).minusMillis(1), T0).lostRunners()).isZero();
        assertThat(runnerState(runner)).isEqualTo("ACTIVE");
        assertThat(rows.attemptRow(attempt).state()).isEqualTo("RUNNING");
        assertThat(rows.jobRow(job).state()).isEqualTo("RUNNING");

        RunnerRescuer.Rescued rescued = run(T0.plus(TIMEOUT), T0);

        assertThat(rescued.lostRunners()).isEqualTo(1);
        assertThat(rescued.lostNames()).containsExactly(rows.text("select name from runners where id = ?", runner));
        assertThat(rescued.endedAttempts()).isEqualTo(1);
        assertThat(runnerState(runner)).isEqualTo("LOST");
        Rows.AttemptRow a = rows.attemptRow(attempt);
        assertThat(a.state()).isEqualTo("ENDED");
        assertThat(a.endReason()).startsWith("LOST");
        Rows.JobRow j = rows.jobRow(job);
        assertThat(j.state()).isEqualTo("QUEUED");
        assertThat(j.restarts()).isEqualTo(1);
    }

    @Test
    void onlyRunnersSilentForAWholeTimeoutAreLostAndEveryAttemptTouchingThemEnds() throws Exception {
        Instant now = T0.plusSeconds(600);
        long talking = rows.runner(pool).heartbeatAt(now.minusSeconds(59)).insert();
        long silent = rows.runner(pool).heartbeatAt(now.minusSeconds(61)).insert();
        long neverSpoke = rows.runner(pool)
                .state("REGISTERED")
                .heartbeatAt(null)
                .registeredAt(now.minusSeconds(120))
                .insert();
        long justRegistered = rows.runner(pool)
                .state("REGISTERED")
                .heartbeatAt(null)
                .registeredAt(now.minusSeconds(10))
                .insert();
        long offline = rows.runner(pool)
                .state("OFFLINE")
                .heartbeatAt(now.minusSeconds(3600))
                .insert();
        long healthyJob = rows.job(project).state("RUNNING").insert();
        long healthy = rows.attempt(healthyJob).on(talking, 8).insert();
        // A gang whose rank-1 runner went silent: the whole attempt is lost.
        long gangJob = rows.job(project)
                .state("RUNNING")
                .gpus(8)
                .multiNode()
                .maxRestarts(0)
                .insert();
        long gang = rows.attempt(gangJob).on(talking, 4).on(silent, 4).insert();

        RunnerRescuer.Rescued rescued = run(now, T0);

        assertThat(rescued.lostRunners()).isEqualTo(2);
        assertThat(rescued.endedAttempts()).isEqualTo(1);
        assertThat(runnerState(talking)).isEqualTo("ACTIVE");
        assertThat(runnerState(silent)).isEqualTo("LOST");
        assertThat(runnerState(neverSpoke)).isEqualTo("LOST");
        assertThat(runnerState(justRegistered)).isEqualTo("REGISTERED");
        assertThat(runnerState(offline)).isEqualTo("OFFLINE");
        assertThat(rows.attemptRow(healthy).state()).isEqualTo("RUNNING");
        assertThat(rows.attemptRow(gang).state()).isEqualTo("ENDED");
        assertThat(rows.jobRow(gangJob).state()).as("no restarts left").isEqualTo("FAILED");
        assertThat(rows.jobRow(healthyJob).state()).isEqualTo("RUNNING");
        // The lost runner no longer appears to the scheduler; the talking one has its gang's GPUs back.
        assertThat(SnapshotLoader.load(c, now, Rows.HEARD_WITHIN).snapshot().runners())
                .singleElement()
                .satisfies(r -> assertThat(r.id()).isEqualTo(talking))
                .satisfies(r -> assertThat(r.freeGpus()).isZero());
    }

    @Test
    void aCancelTheRunnerNeverConfirmsIsEndedAfterTheGracePeriod() throws Exception {
        long runner = rows.runner(pool).heartbeatAt(T0.plusSeconds(600)).insert();
        long job = rows.job(project).state("RUNNING").cancelRequested().insert();
        // The rows exactly as the API's cancel of a running job leaves them (JobRepository.requestCancel
        // stamps stop_requested_at, so the grace period runs from the cancel).
        long attempt = rows.attempt(job)
                .on(runner, 1)
                .stopping("STOPPING", "CANCELLED", T0)
                .insert();

        run(T0.plusSeconds(600), T0);

        assertThat(rows.attemptRow(attempt).state()).isEqualTo("ENDED");
        assertThat(rows.jobRow(job).state()).isEqualTo("CANCELLED");
    }

    @Test
    void anAttemptThatDoesNotStopWithinTheGracePeriodIsEndedAsStopped() throws Exception {
        long runner = rows.runner(pool).heartbeatAt(T0.plusSeconds(100)).insert();
        long preemptedJob = rows.job(project).state("RUNNING").insert();
        long preempted = rows.attempt(preemptedJob)
                .on(runner, 1)
                .stopping("PREEMPTING", "PREEMPTED", T0)
                .insert();
        long cancelledJob = rows.job(project).state("RUNNING").cancelRequested().insert();
        long cancelled = rows.attempt(cancelledJob)
                .on(runner, 1)
                .stopping("STOPPING", "CANCELLED", T0.plusSeconds(5))
                .insert();
        long runningJob = rows.job(project).state("RUNNING").insert();
        long running = rows.attempt(runningJob).on(runner, 1).insert();

        RunnerRescuer.Rescued early = run(T0.plus(GRACE), T0);
        assertThat(early.endedAttempts()).isZero();
        assertThat(rows.attemptRow(preempted).state()).isEqualTo("PREEMPTING");

        RunnerRescuer.Rescued late = run(T0.plus(GRACE).plusSeconds(1), T0);

        assertThat(late.lostRunners()).isZero();
        assertThat(late.endedAttempts()).isEqualTo(1);
        assertThat(rows.attemptRow(preempted).state()).isEqualTo("ENDED");
        assertThat(rows.attemptRow(preempted).endReason()).startsWith("PREEMPTED: did not confirm the stop");
        assertThat(rows.jobRow(preemptedJob).state()).isEqualTo("QUEUED");
        assertThat(rows.jobRow(preemptedJob).restarts()).isZero();
        assertThat(rows.attemptRow(cancelled).state()).isEqualTo("STOPPING");

        run(T0.plus(GRACE).plusSeconds(6), T0);

        assertThat(rows.jobRow(cancelledJob).state()).isEqualTo("CANCELLED");
        assertThat(rows.attemptRow(running).state()).isEqualTo("RUNNING");
        assertThat(rows.jobRow(runningJob).state()).isEqualTo("RUNNING");
        assertThat(runnerState(runner)).isEqualTo("ACTIVE");
    }

    @Test
    void anAttemptThatRanForItsRuntimeLimitIsAskedToStopAndItsJobFailsWithThatReason() throws Exception {
        long runner = rows.runner(pool).heartbeatAt(T0.plusSeconds(10_000)).insert();
        long job = rows.job(project).state("RUNNING").maxRuntimeSeconds(600).insert();
        long attempt = rows.attempt(job).on(runner, 1).startedAt(T0).insert();
        long longerJob =
                rows.job(project).state("RUNNING").maxRuntimeSeconds(3600).insert();
        long longer = rows.attempt(longerJob).on(runner, 1).startedAt(T0).insert();
        // Asked to stop for another reason already: that request stands, the limit asks nothing more.
        long preemptedJob =
                rows.job(project).state("RUNNING").maxRuntimeSeconds(600).insert();
        long preempted = rows.attempt(preemptedJob)
                .on(runner, 1)
                .startedAt(T0)
                .stopping("PREEMPTING", "PREEMPTED", T0.plusSeconds(590))
                .insert();

        assertThat(run(T0.plusSeconds(599), T0).runtimeStops()).isZero();
        assertThat(rows.attemptRow(attempt).state()).isEqualTo("RUNNING");

        RunnerRescuer.Rescued atLimit = run(T0.plusSeconds(600), T0);

        assertThat(atLimit.runtimeStops()).isEqualTo(1);
        assertThat(atLimit.endedAttempts()).isZero();
        Rows.AttemptRow asked = rows.attemptRow(attempt);
        assertThat(asked.state()).isEqualTo("STOPPING");
        assertThat(asked.stopReason()).isEqualTo("RUNTIME_LIMIT_REACHED");
        assertThat(asked.stopRequestedAt()).isEqualTo(T0.plusSeconds(600));
        assertThat(rows.events(job)).containsExactly("RUNNING>RUNNING:RUNTIME_LIMIT_STOP_REQUESTED");
        assertThat(rows.attemptRow(longer).state()).isEqualTo("RUNNING");
        assertThat(rows.attemptRow(preempted).stopReason()).isEqualTo("PREEMPTED");
        assertThat(run(T0.plusSeconds(601), T0).runtimeStops()).as("asked once").isZero();

        // The runner checkpoints and reports the stop: the job ends FAILED with the limit as its reason.
        c.setAutoCommit(false);
        AttemptEnder.end(c, attempt, AttemptEnder.Ending.STOPPED, null, T0.plusSeconds(610));
        c.commit();
        c.setAutoCommit(true);
        Rows.JobRow ended = rows.jobRow(job);
        assertThat(ended.state()).isEqualTo("FAILED");
        assertThat(ended.stateReason()).isEqualTo("RUNTIME_LIMIT_REACHED");
        assertThat(ended.restarts()).isZero();
        assertThat(rows.attemptRow(attempt).endReason()).isEqualTo("RUNTIME_LIMIT_REACHED");
        assertThat(rows.jobRow(longerJob).state()).isEqualTo("RUNNING");
    }

    @Test
    void anAttemptThatDoesNotStopAtItsRuntimeLimitIsEndedAfterTheGraceAndItsJobFails() throws Exception {
        long runner = rows.runner(pool).heartbeatAt(T0.plusSeconds(10_000)).insert();
        long job = rows.job(project)
                .state("RUNNING")
                .maxRuntimeSeconds(60)
                .maxRestarts(3)
                .insert();
        long attempt = rows.attempt(job).on(runner, 1).startedAt(T0).insert();

        run(T0.plusSeconds(60), T0);
        assertThat(run(T0.plusSeconds(60).plus(GRACE), T0).endedAttempts()).isZero();
        RunnerRescuer.Rescued late = run(T0.plusSeconds(61).plus(GRACE), T0);

        assertThat(late.endedAttempts()).isEqualTo(1);
        assertThat(rows.attemptRow(attempt).endReason())
                .isEqualTo("RUNTIME_LIMIT_REACHED: did not confirm the stop within 30 s");
        Rows.JobRow j = rows.jobRow(job);
        assertThat(j.state()).as("not requeued, whatever restarts are left").isEqualTo("FAILED");
        assertThat(j.stateReason()).isEqualTo("RUNTIME_LIMIT_REACHED");
        assertThat(rows.events(job))
                .containsExactly(
                        "RUNNING>RUNNING:RUNTIME_LIMIT_STOP_REQUESTED", "RUNNING>FAILED:RUNTIME_LIMIT_REACHED");
    }
}
