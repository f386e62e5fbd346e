package dev.trainyard.api.lifecycle;

import dev.trainyard.api.db.Jdbc;
import java.sql.Array;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The only writer of {@code runners.state}: registration, heartbeats, drains and the rescuer's verdict, each
 * checked against {@link RunnerState#TRANSITIONS} and guarded on the states it moves from.
 */
public final class RunnerTransitions {

    private RunnerTransitions() {}

    /** What a registration records about a runner's machine, and the token it registered with (if any). */
    public record Registration(
            long poolId, String name, String host, int totalGpus, String devicesJson, Long tokenId) {}

    /** A runner the rescuer declared lost. */
    public record Lost(long id, String name) {}

    /**
     * Registers a runner, or re-registers one of the same name (it restarted): either way it is ACTIVE now.
     * Empty when the table forbids the runner's current state to become ACTIVE, or when the name belongs to a
     * runner of another live token (the row is left alone: a registration never takes over another token's
     * runner).
     */
    public static Optional<Long> register(Connection c, Registration r, Instant now) throws SQLException {
        List<RunnerState> from = sources(RunnerState.ACTIVE);
        return Jdbc.queryOne(
                c,
                """
                insert into runners (pool_id, name, host, state, total_gpus, devices, token_id, registered_at,
                                     last_heartbeat_at)
                values (?, ?, ?, ?, ?, cast(? as jsonb), ?, ?, ?)
                on conflict (name) do update set pool_id = excluded.pool_id, host = excluded.host, state = excluded.state,
                       total_gpus = excluded.total_gpus, devices = excluded.devices, token_id = excluded.token_id,
                       last_heartbeat_at = excluded.last_heartbeat_at, version = runners.version + 1
                 where runners.state = any(?)
                   and (runners.token_id is null or runners.token_id = excluded.token_id
                        or exists (select 1 from api_tokens t where t.id = runners.token_id and t.revoked_at is not null))
                returning id""",
                rs -> rs.getLong(1),
                r.poolId(),
                r.name(),
                r.host(),
                RunnerState.ACTIVE.word(),
                r.totalGpus(),
                r.devicesJson(),
                r.tokenId(),
                now,
                now,
                words(c, from));
    }

    /**
     * Records a heartbeat of a present runner (a REGISTERED one becomes ACTIVE) and returns its state; empty for a
     * runner that is unknown, LOST or OFFLINE, which must register again.
     */
    public static Optional<RunnerState> heartbeat(Connection c, long runnerId, Instant now) throws SQLException {
        RunnerState.TRANSITIONS.check(RunnerState.REGISTERED, RunnerState.ACTIVE);
        return Jdbc.queryOne(
                c,
                """
                update runners set last_heartbeat_at = ?,
                       state = case when state = ? then ? else state end
                 where id = ? and state = any(?) returning state""",
                rs -> RunnerState.ofWord(rs.getString(1)),
                now,
                RunnerState.REGISTERED.word(),
                RunnerState.ACTIVE.word(),
                runnerId,
                words(c, present()));
    }

    /** Stops new work from going to a runner seen in state {@code seen}; false when it changed meanwhile. */
    public static boolean drain(Connection c, long runnerId, RunnerState seen) throws SQLException {
        return move(c, runnerId, List.of(seen), RunnerState.DRAINING);
    }

    /**
     * A runner stopping on purpose: DRAINING (no new work) while it still holds live attempts, OFFLINE once it
     * holds none, so that it is never judged LOST for going away. Returns its state, or empty when it is not present.
     */
    public static Optional<RunnerState> leave(Connection c, long runnerId, boolean holdsAttempts) throws SQLException {
        List<RunnerState> present = present();
        present.forEach(s -> RunnerState.TRANSITIONS.check(s, RunnerState.DRAINING));
        RunnerState.TRANSITIONS.check(RunnerState.DRAINING, RunnerState.OFFLINE);
        Optional<RunnerState> state = Jdbc.queryOne(
                c,
                """
                update runners set state = ?, version = version + case when state = ? then 0 else 1 end
                 where id = ? and state = any(?) returning state""",
                rs -> RunnerState.ofWord(rs.getString(1)),
                RunnerState.DRAINING.word(),
                RunnerState.DRAINING.word(),
                runnerId,
                words(c, present));
        if (state.isPresent() && !holdsAttempts) {
            move(c, runnerId, List.of(RunnerState.DRAINING), RunnerState.OFFLINE);
            return Optional.of(RunnerState.OFFLINE);
        }
        return state;
    }

    /** Marks LOST every present runner not heard from since {@code silentSince}. */
    public static List<Lost> markSilentLost(Connection c, Instant silentSince) throws SQLException {
        List<RunnerState> from = present();
        from.forEach(s -> RunnerState.TRANSITIONS.check(s, RunnerState.LOST));
        return Jdbc.query(
                c,
                """
                update runners set state = ?, version = version + 1
                 where state = any(?) and coalesce(last_heartbeat_at, registered_at) < ?
                returning id, name""",
                rs -> new Lost(rs.getLong(1), rs.getString(2)),
                RunnerState.LOST.word(),
                words(c, from),
                silentSince);
    }

    /** A bare guarded move of a runner's state; drains use it, and the lifecycle's tests try the table through it. */
    static boolean move(Connection c, long runnerId, List<RunnerState> from, RunnerState to) throws SQLException {
        from.forEach(s -> RunnerState.TRANSITIONS.check(s, to));
        return Jdbc.update(
                        c,
                        "update runners set state = ?, version = version + 1 where id = ? and state = any(?)",
                        to.word(),
                        runnerId,
                        words(c, from))
                == 1;
    }

    private static List<RunnerState> present() {
        return Arrays.stream(RunnerState.values())
                .filter(RunnerState::isPresent)
                .toList();
    }

    private static List<RunnerState> sources(RunnerState to) {
        return Arrays.stream(RunnerState.values())
                .filter(s -> RunnerState.TRANSITIONS.allows(s, to))
                .toList();
    }

    private static Array words(Connection c, List<RunnerState> states) throws SQLException {
        return c.createArrayOf("text", states.stream().map(RunnerState::word).toArray());
    }
}
