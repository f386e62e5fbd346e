package dev.trainyard.api.scheduling;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.lifecycle.AttemptEnder;
import dev.trainyard.api.lifecycle.AttemptState;
import dev.trainyard.api.lifecycle.AttemptTransitions;
import dev.trainyard.api.lifecycle.RunnerTransitions;
import dev.trainyard.api.lifecycle.RunnerTransitions.Lost;
import dev.trainyard.api.lifecycle.StopReason;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Leader-only housekeeping: runners whose heartbeats stopped become LOST and their attempts end (jobs go back
 * to the queue to resume from their last checkpoint); attempts that reached their job's
 * {@code limits.maxRuntimeSeconds} are asked to checkpoint and stop; attempts that were asked to stop and did not
 * within the grace period are ended as if they had.
 */
public final class RunnerRescuer {

    private RunnerRescuer() {}

    /**
     * What one pass did; {@code lostNames} are the runners it declared lost, for the operator's log;
     * {@code runtimeStops} the attempts it asked to stop at their runtime limit.
     */
    public record Rescued(List<String> lostNames, int endedAttempts, int runtimeStops) {
        public int lostRunners() {
            return lostNames.size();
        }
    }

    /**
     * @param watchingSince when this leader started watching: a runner is only declared lost after it has been
     *     silent for a whole timeout under this leader, so restarting the API (or a change of leader) does not
     *     condemn every runner whose heartbeats went unanswered meanwhile
     */
    public static Rescued run(
            Connection c, Instant now, Instant watchingSince, Duration heartbeatTimeout, Duration stopGrace)
            throws SQLException {
        Instant silentSince = now.minus(heartbeatTimeout);
        List<Lost> lostRunners =
                watchingSince.isAfter(silentSince) ? List.of() : RunnerTransitions.markSilentLost(c, silentSince);
        List<Long> lost = lostRunners.stream().map(Lost::id).toList();
        int ended = 0;
        if (!lost.isEmpty()) {
            List<Long> attempts = Jdbc.query(c, """
                    select distinct a.id from attempts a join attempt_runners ar on ar.attempt_id = a.id
                     where a.ended_at is null and ar.runner_id = any(?) order by a.id""", rs -> rs.getLong(1), c.createArrayOf("bigint", lost.toArray()));
            for (long attempt : attempts) {
                ended +=
                        AttemptEnder.end(c, attempt, AttemptEnder.Ending.LOST, "runner stopped sending heartbeats", now)
                                        .isPresent()
                                ? 1
                                : 0;
            }
        }
        int runtimeStops = requestRuntimeStops(c, now);
        List<Long> overdue = Jdbc.query(c, """
                select id from attempts where ended_at is null and stop_requested_at < ? order by id""", rs -> rs.getLong(1), now.minus(stopGrace));
        for (long attempt : overdue) {
            ended += AttemptEnder.end(
                                    c,
                                    attempt,
                                    AttemptEnder.Ending.STOPPED,
                                    "did not confirm the stop within " + stopGrace.toSeconds() + " s",
                                    now)
                            .isPresent()
                    ? 1
                    : 0;
        }
        return new Rescued(lostRunners.stream().map(Lost::name).toList(), ended, runtimeStops);
    }

    /**
     * Asks every live attempt that has run for its job's {@code maxRuntimeSeconds} to checkpoint and stop. An
     * attempt's runtime counts from its placement ({@code started_at}), as the scheduler counts it when it plans
     * backfill, ETAs and worst-case cost; each attempt of a job has the whole bound (see AttemptEnder for why the
     * stop then ends the job).
     */
    private static int requestRuntimeStops(Connection c, Instant now) throws SQLException {
        record Due(long attemptId, long jobId, long limitSeconds) {}
        List<Due> due = Jdbc.query(
                c,
                """
                select a.id, a.job_id, j.max_runtime_seconds from attempts a join jobs j on j.id = a.job_id
                 where a.ended_at is null and a.stop_requested_at is null and a.state = any(?)
                   and a.started_at + j.max_runtime_seconds * interval '1 second' <= ?
                 order by a.id""",
                rs -> new Due(rs.getLong(1), rs.getLong(2), rs.getLong(3)),
                c.createArrayOf(
                        "text",
                        AttemptState.STOPPABLE.stream().map(AttemptState::word).toArray()),
                now);
        int asked = 0;
        for (Due d : due) {
            if (AttemptTransitions.requestStop(
                    c,
                    d.attemptId,
                    d.jobId,
                    StopReason.RUNTIME_LIMIT,
                    "Asked to checkpoint and stop: ran for its limit of " + d.limitSeconds + " s",
                    now)) {
                asked++;
            }
        }
        return asked;
    }
}
