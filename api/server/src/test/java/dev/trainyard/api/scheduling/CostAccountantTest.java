package dev.trainyard.api.scheduling;

import static dev.trainyard.api.scheduling.Rows.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.lifecycle.AttemptEnder;
import dev.trainyard.scheduler.Project;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The cost ledger: what a project is charged is exactly what its GPUs cost, and every total agrees with it. */
class CostAccountantTest {
    private static final Duration INTERVAL = Duration.ofSeconds(30);

    private Connection c;
    private Rows rows;

    @BeforeEach
    void open() throws Exception {
        SchedulingDatabase.empty();
        c = SchedulingDatabase.connect();
        rows = new Rows(c);
    }

    @AfterEach
    void close() throws Exception {
        c.close();
    }

    private int accrueAll(Instant now) throws Exception {
        return CostAccountant.accrueAll(c, now, INTERVAL);
    }

    @Test
    void anAttemptIsChargedPriceTimesGpusTimesSecondsSinceItsLastCharge() throws Exception {
        long pool = rows.pool("a100", "2.5");
        long project = rows.project(null);
        long runner = rows.runner(pool).insert();
        long job = rows.job(project).pool(pool).gpus(4).state("RUNNING").insert();
        long attempt = rows.attempt(job).on(runner, 4).costAccountedTo(T0).insert();

        assertThat(accrueAll(T0.plusSeconds(90))).isEqualTo(1);

        // 2.5 USD per GPU-hour x 4 GPUs x 90 s / 3600 = 0.25 USD
        assertThat(rows.sum("select amount_usd from cost_ledger where attempt_id = ?", attempt))
                .isEqualByComparingTo("0.25");
        assertThat(rows.sum("select gpu_seconds::numeric from cost_ledger where attempt_id = ?", attempt))
                .isEqualByComparingTo("360");
        assertThat(rows.text(
                        "select from_at = ? and to_at = ? from cost_ledger where attempt_id = ?",
                        T0,
                        T0.plusSeconds(90),
                        attempt))
                .isEqualTo("t");
        assertThat(rows.attemptRow(attempt).accruedCostUsd()).isEqualByComparingTo("0.25");
        assertThat(rows.attemptRow(attempt).costAccountedTo()).isEqualTo(T0.plusSeconds(90));
        assertThat(rows.jobRow(job).accruedCostUsd()).isEqualByComparingTo("0.25");
    }

    @Test
    void oddPricesAndFractionalSecondsAreChargedToTheHundredMillionthOfADollar() throws Exception {
        long pool = rows.pool("h100", "3.123457");
        long project = rows.project(null);
        long runner = rows.runner(pool).insert();
        long job = rows.job(project).pool(pool).gpus(3).state("RUNNING").insert();
        long attempt = rows.attempt(job).on(runner, 3).costAccountedTo(T0).insert();
        Instant until = T0.plusMillis(37_123);

        accrueAll(until);

        BigDecimal expected = new BigDecimal("3.123457")
                .multiply(BigDecimal.valueOf(3))
                .multiply(new BigDecimal("37.123"))
                .divide(BigDecimal.valueOf(3600), 8, RoundingMode.HALF_UP);
        assertThat(expected).isEqualByComparingTo("0.09662675");
        assertThat(rows.sum("select amount_usd from cost_ledger where attempt_id = ?", attempt))
                .isEqualByComparingTo(expected);
        assertThat(rows.jobRow(job).accruedCostUsd()).isEqualByComparingTo(expected);
    }

    @Test
    void aRunningAttemptIsChargedOnlyOnceItsLastChargeIsAnIntervalOld() throws Exception {
        long pool = rows.pool("a100", "3.6");
        long project = rows.project(null);
        long runner = rows.runner(pool).insert();
        long job = rows.job(project).pool(pool).state("RUNNING").insert();
        long attempt = rows.attempt(job).on(runner, 1).costAccountedTo(T0).insert();

        assertThat(accrueAll(T0.plusSeconds(20))).isZero();
        assertThat(rows.count("select count(*) from cost_ledger")).isZero();
        assertThat(accrueAll(T0.plusSeconds(40))).isEqualTo(1);
        assertThat(accrueAll(T0.plusSeconds(50))).isZero();

        // 3.6 USD per GPU-hour = 0.001 USD per GPU-second, for 40 s
        assertThat(rows.attemptRow(attempt).accruedCostUsd()).isEqualByComparingTo("0.04");
        assertThat(rows.attemptRow(attempt).costAccountedTo()).isEqualTo(T0.plusSeconds(40));
    }

    @Test
    void aProjectsLedgerSumsToWhatItsAttemptsAndJobsCost() throws Exception {
        long cheap = rows.pool("a100", "1.8");
        long dear = rows.pool("h100", "7.2");
        long project = rows.project("1000");
        long other = rows.project(null);
        long r1 = rows.runner(cheap).insert();
        long r2 = rows.runner(dear).insert();
        long r3 = rows.runner(dear).insert();
        long resumed = rows.job(project)
                .pool(cheap)
                .gpus(2)
                .state("RUNNING")
                .maxRestarts(3)
                .insert();
        long firstTry = rows.attempt(resumed).on(r1, 2).costAccountedTo(T0).insert();
        long gang = rows.job(project)
                .pool(dear)
                .gpus(12)
                .multiNode()
                .state("RUNNING")
                .insert();
        long gangAttempt = rows.attempt(gang)
                .on(r2, 8)
                .on(r3, 4)
                .costAccountedTo(T0.plusSeconds(5))
                .insert();
        long neighbour = rows.job(other).pool(cheap).gpus(1).state("RUNNING").insert();
        rows.attempt(neighbour).on(r1, 1).costAccountedTo(T0).insert();

        accrueAll(T0.plusSeconds(45));
        c.setAutoCommit(false);
        AttemptEnder.end(c, firstTry, AttemptEnder.Ending.LOST, null, T0.plusSeconds(61));
        c.commit();
        c.setAutoCommit(true);
        Jdbc.update(c, "update jobs set state = 'RUNNING' where id = ?", resumed);
        long secondTry =
                rows.attempt(resumed).on(r1, 2).startedAt(T0.plusSeconds(70)).insert();
        accrueAll(T0.plusSeconds(100));
        accrueAll(T0.plusSeconds(137));
        accrueAll(T0.plusSeconds(137)); // a second pass at the same instant charges nothing more

        // cheap: 1.8/3600 = 0.0005 USD per GPU-second; dear: 7.2/3600 = 0.002 USD per GPU-second
        BigDecimal firstTryCost = new BigDecimal("0.0005").multiply(BigDecimal.valueOf(2 * 61));
        BigDecimal secondTryCost = new BigDecimal("0.0005").multiply(BigDecimal.valueOf(2 * (137 - 70)));
        BigDecimal gangCost = new BigDecimal("0.002").multiply(BigDecimal.valueOf(12 * (137 - 5)));
        BigDecimal expected = firstTryCost.add(secondTryCost).add(gangCost);
        BigDecimal ledger = rows.sum("select sum(amount_usd) from cost_ledger where project_id = ?", project);
        assertThat(ledger).isEqualByComparingTo(expected);
        assertThat(rows.sum("""
                select sum(a.accrued_cost_usd) from attempts a join jobs j on j.id = a.job_id
                 where j.project_id = ?""", project)).isEqualByComparingTo(ledger);
        assertThat(rows.sum("select sum(accrued_cost_usd) from jobs where project_id = ?", project))
                .isEqualByComparingTo(ledger);
        assertThat(rows.attemptRow(secondTry).accruedCostUsd()).isEqualByComparingTo(secondTryCost);
        assertThat(rows.jobRow(resumed).accruedCostUsd()).isEqualByComparingTo(firstTryCost.add(secondTryCost));
        assertThat(rows.sum("select sum(amount_usd) from cost_ledger where project_id = ?", other))
                .isEqualByComparingTo(new BigDecimal("0.0005").multiply(BigDecimal.valueOf(137)));
        // The scheduler's budget checks see the same spend.
        Project seen = SnapshotLoader.load(c, T0.plusSeconds(137), Rows.HEARD_WITHIN).snapshot().projects().stream()
                .filter(p -> p.id() == project)
                .findFirst()
                .orElseThrow();
        assertThat(seen.spentUsd()).isEqualByComparingTo(expected);
    }
}
