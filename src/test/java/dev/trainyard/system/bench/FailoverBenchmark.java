package dev.trainyard.system.bench;

import dev.trainyard.client.model.Job;
import dev.trainyard.system.support.ManagedProcess;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import dev.trainyard.system.support.SystemDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * Failover of a real runner: a small GPT job trains on runner A, A is killed with SIGKILL, and the time is taken
 * until the job trains again on another runner: attempt ended as lost, new attempt placed, new attempt RUNNING
 * (:start answered), and the new attempt's first reported step past its checkpoint and past the step at the kill.
 * Twice: with the replacement runner started right after the kill (cold: its JVM and libtorch start count), and
 * with a replacement already registered and idle (standby). Observed through the database every 50 ms.
 */
public final class FailoverBenchmark {
    private static final long STEPS = 100_000;
    private static final Duration WAIT = Duration.ofMinutes(3);
    /** How long a failover may take before it is reported as not recovered: far above the 6 s timeout + 5 s goal. */
    private static final Duration RECOVERY = Duration.ofSeconds(Long.getLong("bench.recoverySeconds", 90));

    public static void main(String[] args) throws Exception {
        BenchPlatform.measure("Failover of a killed runner", "bench_failover", FailoverBenchmark::run);
    }

    private static void run(Platform platform) throws Exception {
        ManagedProcess a = platform.startRunner("node-a", 2);
        Job job = platform.jobs().submitJob(Specs.tinyGpt("failover", 2, STEPS, 20), null);
        long id = job.getId();
        try (Connection db = SystemDatabase.connect(platform.dbUrl())) {
            Figures.Table table = new Figures.Table(
                    "replacement",
                    "heartbeat timeout s",
                    "step at kill",
                    "resumed from step",
                    "lost s",
                    "new attempt placed s",
                    "new attempt RUNNING s",
                    "first new step s",
                    "past step at kill s");
            awaitTraining(platform, db, id, 1);
            ManagedProcess b = failover(platform, db, id, a, 1, "node-b", false, table);
            if (attemptId(db, id, 2) >= 0) {
                awaitTraining(platform, db, id, 2);
                failover(platform, db, id, b, 2, "node-c", true, table);
            } else {
                System.out.println("no failover: attempt 1 is still "
                        + scalarText(
                                db,
                                "select state || ', ended_at '"
                                        + " || coalesce(ended_at::text, 'null') from attempts where job_id = ? and number = 1",
                                id)
                        + "; runners: "
                        + scalarText(
                                db,
                                "select string_agg(name || ' ' || state || ' last heartbeat '"
                                        + " || last_heartbeat_at::text, '; ' order by id) from runners where ? > 0",
                                id));
            }
            platform.jobs().cancelJob(id);
            System.out.println();
            table.print();
        }
    }

    /** Waits until attempt {@code number} has a complete checkpoint it wrote and has reported 10 steps past it. */
    private static void awaitTraining(Platform platform, Connection db, long job, int number) throws SQLException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            long attempt = attemptId(db, job, number);
            long checkpoint = attempt < 0
                    ? -1
                    : scalar(
                            db,
                            "select coalesce(max(step), -1) from checkpoints"
                                    + " where attempt_id = ? and state = 'COMPLETE'",
                            attempt);
            if (checkpoint >= 0 && maxStep(db, attempt) >= checkpoint + 10) {
                return;
            }
            Platform.sleep(100);
        }
        throw new IllegalStateException("attempt " + number + " of job " + job + " did not checkpoint in " + WAIT);
    }

    private static ManagedProcess failover(
            Platform platform,
            Connection db,
            long job,
            ManagedProcess victim,
            int number,
            String replacement,
            boolean standby,
            Figures.Table table)
            throws SQLException {
        ManagedProcess next = null;
        if (standby) {
            next = platform.startRunner(replacement, 2);
            awaitRegistered(db, replacement);
        }
        long old = attemptId(db, job, number);
        victim.kill9();
        long t0 = System.nanoTime();
        long stepAtKill = maxStep(db, old);
        if (!standby) {
            next = platform.startRunner(replacement, 2);
        }
        double lost = Double.NaN;
        double placed = Double.NaN;
        double running = Double.NaN;
        double firstStep = Double.NaN;
        double pastKill = Double.NaN;
        long resumed = -1;
        long deadline = t0 + RECOVERY.toNanos();
        while (System.nanoTime() < deadline && Double.isNaN(pastKill)) {
            double now = (System.nanoTime() - t0) / 1e9;
            if (Double.isNaN(lost)
                    && scalar(db, "select count(*) from attempts where id = ? and ended_at is not null", old) > 0) {
                lost = now;
            }
            long fresh = attemptId(db, job, number + 1);
            if (fresh >= 0) {
                placed = Double.isNaN(placed) ? now : placed;
                if (Double.isNaN(running)
                        && scalar(db, "select count(*) from attempts where id = ? and state =" + " 'RUNNING'", fresh)
                                > 0) {
                    running = now;
                    resumed = scalar(
                            db,
                            "select coalesce((select step from checkpoints where id ="
                                    + " a.resume_checkpoint_id), -1) from attempts a where a.id = ?",
                            fresh);
                }
                long step = maxStep(db, fresh);
                if (Double.isNaN(firstStep) && step > resumed && !Double.isNaN(running)) {
                    firstStep = now;
                }
                if (step > stepAtKill) {
                    pastKill = now;
                }
            }
            Platform.sleep(50);
        }
        table.row(
                standby ? "standby (registered before the kill)" : "cold (started after the kill)",
                6,
                stepAtKill,
                resumed,
                Figures.ms(lost),
                Figures.ms(placed),
                Figures.ms(running),
                Figures.ms(firstStep),
                Figures.ms(pastKill));
        System.out.printf(
                "failover %d (%s): lost %.2f s, placed %.2f s, running %.2f s, training %.2f s,"
                        + " past the kill's step %d at %.2f s%n",
                number, replacement, lost, placed, running, firstStep, stepAtKill, pastKill);
        return next;
    }

    private static void awaitRegistered(Connection db, String runner) throws SQLException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try (PreparedStatement ps =
                    db.prepareStatement("select count(*) from runners where name = ? and state" + " = 'ACTIVE'")) {
                ps.setString(1, runner);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        Platform.sleep(2000);
                        return;
                    }
                }
            }
            Platform.sleep(200);
        }
        throw new IllegalStateException("runner " + runner + " did not register in " + WAIT);
    }

    private static long attemptId(Connection db, long job, int number) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("select id from attempts where job_id = ? and number = ?")) {
            ps.setLong(1, job);
            ps.setInt(2, number);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    /** The highest step the attempt has reported a metric for; -1 when none. */
    private static long maxStep(Connection db, long attempt) throws SQLException {
        return scalar(db, "select coalesce(max(step), -1) from metric_points where attempt_id = ?", attempt);
    }

    private static String scalarText(Connection db, String sql, long arg) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement(sql)) {
            ps.setLong(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static long scalar(Connection db, String sql, long arg) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement(sql)) {
            ps.setLong(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }
}
