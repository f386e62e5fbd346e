package dev.trainyard.api.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.scheduling.SchedulingDatabase;
import dev.trainyard.scheduler.NodeAssignment;
import dev.trainyard.scheduler.Placement;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every pair of each machine's states tried against the real database through the guarded writes the lifecycle
 * makes: a legal move is written (with its event, for jobs) and passes the database's checks; an illegal one is
 * refused before any SQL runs and leaves the row as it was.
 */
class LifecycleWritesTest {
    private static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");
    private static final Instant LATER = T0.plusSeconds(60);

    private Connection c;
    private long pool;
    private long project;
    private int names;

    @BeforeEach
    void open() throws Exception {
        SchedulingDatabase.empty();
        c = SchedulingDatabase.connect();
        pool = Jdbc.queryOne(c, """
                insert into pools (name, gpu_type, price_per_gpu_hour, created_at) values ('p', 'a100', 1, ?)
                returning id""", rs -> rs.getLong(1), T0).orElseThrow();
        project = Jdbc.queryOne(
                        c,
                        "insert into projects (name, share, created_at) values ('q', 1, ?) returning id",
                        rs -> rs.getLong(1),
                        T0)
                .orElseThrow();
    }

    @AfterEach
    void close() throws Exception {
        c.close();
    }

    @Test
    void everyJobMoveIsWrittenWithItsEventOrRefusedAsTheTableSays() throws Exception {
        for (JobState from : JobState.values()) {
            for (JobState to : JobState.values()) {
                long job = job(from);
                JobMove move = JobMove.of(job, from, to, EventReason.RUNNER_LOST, "test")
                        .atVersion(0);
                String pair = from + ">" + to;
                if (TransitionTablesTest.JOB.contains(pair)) {
                    assertThat(JobTransitions.move(c, move, LATER)).as(pair).isTrue();
                    assertThat(text("select state from jobs where id = ?", job))
                            .as(pair)
                            .isEqualTo(to.word());
                    assertThat(count("select count(*) from jobs where id = ? and finished_at is not null", job))
                            .as(pair)
                            .isEqualTo(to.isTerminal() ? 1 : 0);
                    assertThat(events(job)).as(pair).containsExactly(pair + ":RUNNER_LOST");
                } else {
                    assertThatThrownBy(() -> JobTransitions.move(c, move, LATER))
                            .as(pair)
                            .isInstanceOf(IllegalTransition.class);
                    assertThat(text("select state from jobs where id = ?", job))
                            .as(pair)
                            .isEqualTo(from.word());
                    assertThat(count("select version from jobs where id = ?", job))
                            .as(pair)
                            .isZero();
                    assertThat(events(job)).as(pair).isEmpty();
                }
            }
        }
    }

    @Test
    void aJobMoveFromAStateOrVersionTheRowNoLongerHasWritesNothing() throws Exception {
        long job = job(JobState.QUEUED);
        assertThat(JobTransitions.move(
                        c, JobMove.of(job, JobState.RUNNING, JobState.SUCCEEDED, EventReason.COMPLETED, null), LATER))
                .isFalse();
        assertThat(JobTransitions.move(
                        c,
                        JobMove.of(job, JobState.QUEUED, JobState.CANCELLED, EventReason.CANCELLED_BY_USER, null)
                                .atVersion(7),
                        LATER))
                .isFalse();
        assertThat(text("select state from jobs where id = ?", job)).isEqualTo("QUEUED");
        assertThat(events(job)).isEmpty();
    }

    @Test
    void everyAttemptMoveIsWrittenOrRefusedAsTheTableSays() throws Exception {
        long runner = runner(RunnerState.ACTIVE);
        for (AttemptState from : AttemptState.values()) {
            for (AttemptState to : AttemptState.values()) {
                long attempt = attempt(job(JobState.RUNNING), runner, from);
                String pair = from + ">" + to;
                if (TransitionTablesTest.ATTEMPT.contains(pair)) {
                    assertThat(AttemptTransitions.move(c, attempt, List.of(from), to, LATER))
                            .as(pair)
                            .isTrue();
                    assertThat(text("select state from attempts where id = ?", attempt))
                            .as(pair)
                            .isEqualTo(to.word());
                } else {
                    assertThatThrownBy(() -> AttemptTransitions.move(c, attempt, List.of(from), to, LATER))
                            .as(pair)
                            .isInstanceOf(IllegalTransition.class);
                    assertThat(text("select state from attempts where id = ?", attempt))
                            .as(pair)
                            .isEqualTo(from.word());
                }
            }
        }
    }

    @Test
    void everyRunnerMoveIsWrittenOrRefusedAsTheTableSays() throws Exception {
        for (RunnerState from : RunnerState.values()) {
            for (RunnerState to : RunnerState.values()) {
                long runner = runner(from);
                String pair = from + ">" + to;
                if (TransitionTablesTest.RUNNER.contains(pair)) {
                    assertThat(RunnerTransitions.move(c, runner, List.of(from), to))
                            .as(pair)
                            .isTrue();
                    assertThat(text("select state from runners where id = ?", runner))
                            .as(pair)
                            .isEqualTo(to.word());
                } else {
                    assertThatThrownBy(() -> RunnerTransitions.move(c, runner, List.of(from), to))
                            .as(pair)
                            .isInstanceOf(IllegalTransition.class);
                    assertThat(text("select state from runners where id = ?", runner))
                            .as(pair)
                            .isEqualTo(from.word());
                }
            }
        }
    }

    @Test
    void placingAndStartingMoveTheJobAndItsNewAttemptTogether() throws Exception {
        long runner = runner(RunnerState.ACTIVE);
        long job = job(JobState.QUEUED);
        var placement = new Placement(job, 0, pool, List.of(new NodeAssignment(runner, 2, 0)), 2, BigDecimal.ONE);
        assertThat(JobTransitions.place(c, placement, UUID.randomUUID(), T0)).isTrue();
        long attempt = Jdbc.queryOne(c, "select id from attempts where job_id = ?", rs -> rs.getLong(1), job)
                .orElseThrow();
        assertThat(text("select state from attempts where id = ?", attempt)).isEqualTo("STARTING");

        assertThat(AttemptTransitions.start(c, attempt, job, AttemptState.STARTING, 1, LATER))
                .isEqualTo(AttemptState.RUNNING);
        assertThat(text("select state from attempts where id = ?", attempt)).isEqualTo("RUNNING");
        assertThat(text("select state from jobs where id = ?", job)).isEqualTo("RUNNING");
        assertThat(events(job)).containsExactly("QUEUED>SCHEDULED:PLACED", "SCHEDULED>RUNNING:STARTED");
        // the same version again: the row moved on, so a second placement writes nothing
        assertThat(JobTransitions.place(c, placement, UUID.randomUUID(), T0)).isFalse();
    }

    @Test
    void aStopIsAskedOnceAndACancelOverridesAPreemptionInFlight() throws Exception {
        long runner = runner(RunnerState.ACTIVE);
        long job = job(JobState.RUNNING);
        long attempt = attempt(job, runner, AttemptState.RUNNING);

        assertThat(AttemptTransitions.requestStop(c, attempt, job, StopReason.PREEMPT, "for a bigger job", T0))
                .isTrue();
        assertThat(AttemptTransitions.requestStop(c, attempt, job, StopReason.BUDGET, "over budget", T0))
                .isFalse();
        assertThat(text("select state || ':' || stop_reason from attempts where id = ?", attempt))
                .isEqualTo("PREEMPTING:PREEMPTED");

        assertThat(JobTransitions.requestCancel(c, job, 0, JobState.RUNNING, LATER))
                .isTrue();
        assertThat(text("select state || ':' || stop_reason from attempts where id = ?", attempt))
                .isEqualTo("STOPPING:CANCELLED");
        assertThat(count("select count(*) from attempts where id = ? and stop_requested_at = ?", attempt, T0))
                .as("the grace period runs from the first request")
                .isEqualTo(1);
        assertThat(events(job)).containsExactly("RUNNING>RUNNING:PREEMPTION_REQUESTED");
    }

    @Test
    void aLostRunnerIsRefusedHeartbeatsUntilItRegistersAgain() throws Exception {
        long runner = runner(RunnerState.ACTIVE);
        assertThat(RunnerTransitions.markSilentLost(c, T0.plusSeconds(1)))
                .extracting(RunnerTransitions.Lost::id)
                .containsExactly(runner);
        assertThat(RunnerTransitions.heartbeat(c, runner, LATER)).isEmpty();

        String name = text("select name from runners where id = ?", runner);
        Optional<Long> again = RunnerTransitions.register(
                c, new RunnerTransitions.Registration(pool, name, "h", 1, "[]", null), LATER);
        assertThat(again).contains(runner);
        assertThat(RunnerTransitions.heartbeat(c, runner, LATER)).contains(RunnerState.ACTIVE);
    }

    private long job(JobState state) throws SQLException {
        return Jdbc.queryOne(
                        c,
                        """
                insert into jobs (project_id, name, spec, priority, gpu_type, gpus, min_gpus, max_runtime_seconds,
                                  max_restarts, total_steps, state, submitted_at, finished_at)
                values (?, ?, '{}', 'NORMAL', 'a100', 2, 2, 3600, 1, 100, ?, ?, ?) returning id""",
                        rs -> rs.getLong(1),
                        project,
                        "job-" + (++names),
                        state.word(),
                        T0,
                        state.isTerminal() ? T0 : null)
                .orElseThrow();
    }

    private long runner(RunnerState state) throws SQLException {
        return Jdbc.queryOne(c, """
                insert into runners (pool_id, name, host, state, total_gpus, registered_at, last_heartbeat_at)
                values (?, ?, 'host', ?, 8, ?, ?) returning id""", rs -> rs.getLong(1), pool, "runner-" + (++names), state.word(), T0, T0)
                .orElseThrow();
    }

    private long attempt(long job, long runner, AttemptState state) throws SQLException {
        long id = Jdbc.queryOne(
                        c,
                        """
                insert into attempts (job_id, number, runner_id, gpus, lease_token, state, started_at, ended_at,
                                      cost_accounted_to)
                values (?, (select coalesce(max(number), 0) + 1 from attempts where job_id = ?), ?, 2,
                        gen_random_uuid(), ?, ?, ?, ?) returning id""",
                        rs -> rs.getLong(1),
                        job,
                        job,
                        runner,
                        state.word(),
                        T0,
                        state == AttemptState.ENDED ? T0 : null,
                        T0)
                .orElseThrow();
        Jdbc.update(
                c, "insert into attempt_runners (attempt_id, rank, runner_id, gpus) values (?, 0, ?, 2)", id, runner);
        return id;
    }

    private List<String> events(long job) throws SQLException {
        return Jdbc.query(
                c,
                "select from_state || '>' || to_state || ':' || reason from job_events where job_id = ? "
                        + "order by id",
                rs -> rs.getString(1),
                job);
    }

    private String text(String sql, Object... args) throws SQLException {
        return Jdbc.queryOne(c, sql, rs -> rs.getString(1), args).orElseThrow();
    }

    private long count(String sql, Object... args) throws SQLException {
        return Jdbc.queryOne(c, sql, rs -> rs.getLong(1), args).orElseThrow();
    }
}
