package dev.trainyard.api.scheduling;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.lifecycle.AttemptEnder;
import dev.trainyard.api.lifecycle.RunnerTransitions;
import dev.trainyard.api.lifecycle.RunnerTransitions.Lost;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Leader-only housekeeping: runners whose heartbeats stopped become LOST and their attempts end (jobs go back
 * to the queue to resume from their last checkpoint); attempts that were asked to stop and did not within the
 * grace period are ended as if they had.
 */
public final class RunnerRescuer {

    private RunnerRescuer() {}

    /** What one pass did; {@code lostNames} are the runners it declared lost, for the operator's log. */
    public record Rescued(List<String> lostNames, int endedAttempts) {
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
        return new Rescued(lostRunners.stream().map(Lost::name).toList(), ended);
    }
}
