package dev.trainyard.api.testing;

import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.Arc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Plain SQL against the application's database, for what no endpoint does yet (runners, attempts, states
 * set by the scheduler or runners) and to check what was stored.
 */
public final class Db {
    private Db() {}

    public static long jobCount() {
        return queryLong("select count(*) from jobs");
    }

    public static long queryLong(String sql, Object... args) {
        try (Connection c = connection();
                PreparedStatement ps = prepare(c, sql, args);
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new IllegalStateException("no row: " + sql);
            }
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    public static String queryString(String sql, Object... args) {
        try (Connection c = connection();
                PreparedStatement ps = prepare(c, sql, args);
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new IllegalStateException("no row: " + sql);
            }
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    public static int update(String sql, Object... args) {
        try (Connection c = connection();
                PreparedStatement ps = prepare(c, sql, args)) {
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /** Inserts a runner of a pool; returns its id. */
    public static long insertRunner(String pool, int gpus, String state) {
        return queryLong("""
                insert into runners (pool_id, name, host, state, total_gpus, registered_at, last_heartbeat_at)
                select id, ?, 'host-test', ?, ?, now(), now() from pools where name = ? returning id""", Names.unique("runner"), state, gpus, pool);
    }

    /** Inserts a runner of a pool that the runner token {@code tokenId} speaks for; returns its id. */
    public static long insertRunner(String pool, int gpus, String state, long tokenId) {
        long runner = insertRunner(pool, gpus, state);
        update("update runners set token_id = ? where id = ?", tokenId, runner);
        return runner;
    }

    /** Puts a queued job where a runner would have it: RUNNING, with a live attempt on that runner. */
    public static long makeRunning(long jobId, long runnerId) {
        update("update jobs set state = 'RUNNING', started_at = now(), pending_reason = null where id = ?", jobId);
        long attempt = queryLong("""
                insert into attempts (job_id, number, runner_id, gpus, lease_token, state, started_at)
                values (?, 1, ?, 1, gen_random_uuid(), 'RUNNING', now()) returning id""", jobId, runnerId);
        update(
                "insert into attempt_runners (attempt_id, rank, runner_id, gpus) values (?, 0, ?, 1)",
                attempt,
                runnerId);
        return attempt;
    }

    /** Ends a job the way a runner's report would: a terminal state with its finish time. */
    public static void finish(long jobId, String terminalState) {
        update(
                "update jobs set state = ?, finished_at = now(), pending_reason = null where id = ?",
                terminalState,
                jobId);
    }

    /** A pooled connection to the application's database (the caller closes it). */
    public static Connection connection() throws SQLException {
        return Arc.container().instance(AgroalDataSource.class).get().getConnection();
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps;
    }
}
