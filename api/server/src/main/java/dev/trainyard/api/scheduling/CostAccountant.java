package dev.trainyard.api.scheduling;

import dev.trainyard.api.db.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Writes the cost ledger: each live attempt is charged its pool's price x GPUs for the time since it was last
 * accounted. The attempt's and job's accrued cost move by exactly the ledger row, so a project's ledger always
 * sums to what its attempts cost.
 */
public final class CostAccountant {

    private CostAccountant() {}

    /**
     * Charges every live attempt up to {@code now} whose last charge is at least {@code interval} old; ending
     * attempts are charged exactly, so the interval only bounds how stale a running job's cost may be.
     */
    public static int accrueAll(Connection c, Instant now, java.time.Duration interval) throws SQLException {
        return accrue(c, now, null, now.minus(interval));
    }

    /** Charges one attempt up to {@code until} (its end). */
    public static int accrueOne(Connection c, long attemptId, Instant until) throws SQLException {
        return accrue(c, until, attemptId, until);
    }

    private static int accrue(Connection c, Instant until, Long onlyAttempt, Instant chargedBefore)
            throws SQLException {
        String sql = """
                with live as (
                  select a.id, a.job_id, j.project_id, a.gpus, p.price_per_gpu_hour price, a.cost_accounted_to from_at,
                         extract(epoch from (cast(? as timestamptz) - a.cost_accounted_to)) seconds
                    from attempts a join jobs j on j.id = a.job_id
                    join runners r on r.id = a.runner_id join pools p on p.id = r.pool_id
                   where a.ended_at is null and a.cost_accounted_to < ? and (cast(? as bigint) is null or a.id = ?)
                ), ins as (
                  insert into cost_ledger (project_id, job_id, attempt_id, from_at, to_at, gpu_seconds, amount_usd, created_at)
                  select project_id, job_id, id, from_at, ?, gpus * seconds, round(price * gpus * seconds / 3600, 8), ?
                    from live
                  returning attempt_id, job_id, amount_usd, to_at
                ), attempts_charged as (
                  update attempts a set cost_accounted_to = ins.to_at, accrued_cost_usd = a.accrued_cost_usd + ins.amount_usd
                    from ins where a.id = ins.attempt_id
                )
                update jobs j set accrued_cost_usd = j.accrued_cost_usd + s.amount
                  from (select job_id, sum(amount_usd) amount from ins group by job_id) s where j.id = s.job_id""";
        return Jdbc.update(c, sql, until, chargedBefore, onlyAttempt, onlyAttempt, until, until);
    }
}
