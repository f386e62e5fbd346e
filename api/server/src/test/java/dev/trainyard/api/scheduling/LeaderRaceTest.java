package dev.trainyard.api.scheduling;

import static dev.trainyard.api.scheduling.Rows.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.scheduler.Decision;
import dev.trainyard.scheduler.Scheduler;
import dev.trainyard.scheduler.SchedulerPolicy;
import io.agroal.api.AgroalDataSource;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two API replicas racing to schedule: one leader at a time, and a replica that lost the lease writes nothing. */
class LeaderRaceTest {
    private static final Duration TTL = Duration.ofSeconds(10);

    private final ExecutorService threads = Executors.newFixedThreadPool(2);
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
        threads.shutdownNow();
        c.close();
    }

    private static boolean acquire(String who, Instant now) throws Exception {
        try (Connection own = SchedulingDatabase.connect()) {
            return LeaderLease.acquire(own, who, now, TTL);
        }
    }

    @Test
    void ofTwoReplicasAcquiringAtOnceExactlyOneBecomesLeader() throws Exception {
        for (int round = 0; round < 10; round++) {
            rows.count("with d as (delete from leases returning 1) select count(*) from d");
            CyclicBarrier start = new CyclicBarrier(2);
            List<Future<Boolean>> answers = new ArrayList<>();
            for (String who : List.of("api-a", "api-b")) {
                answers.add(threads.submit(() -> {
                    try (Connection own = SchedulingDatabase.connect()) {
                        start.await(5, TimeUnit.SECONDS);
                        return LeaderLease.acquire(own, who, T0, TTL);
                    }
                }));
            }
            boolean a = answers.get(0).get(10, TimeUnit.SECONDS);
            boolean b = answers.get(1).get(10, TimeUnit.SECONDS);

            assertThat(a ^ b)
                    .as("exactly one leader in round %d (a=%s, b=%s)", round, a, b)
                    .isTrue();
            String leader = a ? "api-a" : "api-b";
            String other = a ? "api-b" : "api-a";
            assertThat(rows.text("select holder from leases")).isEqualTo(leader);
            assertThat(acquire(other, T0.plusSeconds(1))).isFalse();
            assertThat(acquire(leader, T0.plusSeconds(1)))
                    .as("the leader renews")
                    .isTrue();
        }
    }

    @Test
    void theLeaseIsTakenOverOnlyOnceItHasExpired() throws Exception {
        assertThat(acquire("api-a", T0)).isTrue();

        assertThat(acquire("api-b", T0.plusSeconds(9))).isFalse();
        assertThat(acquire("api-b", T0.plus(TTL))).as("not before the very end").isFalse();
        assertThat(acquire("api-b", T0.plus(TTL).plusMillis(1))).isTrue();

        assertThat(rows.text("select holder from leases")).isEqualTo("api-b");
        assertThat(acquire("api-a", T0.plus(TTL).plusMillis(2)))
                .as("the old leader does not get it back")
                .isFalse();
    }

    @Test
    void aReplicaKnowsSinceWhenItLeadsSoTheRescuerGivesRunnersAWholeTimeout() throws Exception {
        AgroalDataSource dataSource = (AgroalDataSource) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {AgroalDataSource.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getConnection") && (args == null || args.length == 0)) {
                        return SchedulingDatabase.connect();
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        LeaderLease lease = new LeaderLease(dataSource);

        assertThat(lease.acquire(T0, TTL)).isTrue();
        assertThat(lease.acquire(T0.plusSeconds(5), TTL)).isTrue();
        assertThat(lease.leaderSince()).as("renewing keeps the start").isEqualTo(T0);

        Instant takeover = T0.plusSeconds(5).plus(TTL).plusSeconds(1);
        assertThat(acquire("api-other", takeover)).isTrue();
        assertThat(lease.acquire(takeover.plusSeconds(1), TTL)).isFalse();
        assertThat(lease.leaderSince()).isNull();

        Instant back = takeover.plus(TTL).plusSeconds(1);
        assertThat(lease.acquire(back, TTL)).isTrue();
        assertThat(lease.leaderSince()).as("a new term starts anew").isEqualTo(back);
        assertThat(rows.text("select holder from leases")).isEqualTo(lease.holder());
    }

    @Test
    void aReplicaThatLostTheLeaseCannotApplyItsDecision() throws Exception {
        long pool = rows.pool("a100", "2");
        long project = rows.project(null);
        rows.runner(pool).gpus(8).insert();
        long job = rows.job(project).pool(pool).gpus(2).insert();
        assertThat(acquire("api-a", T0)).isTrue();
        // api-a stalls (a long GC pause) between deciding and applying; api-b takes over meanwhile.
        SnapshotLoader.Loaded stale = SnapshotLoader.load(c, T0.plusSeconds(1), Rows.HEARD_WITHIN);
        Decision staleDecision = new Scheduler().decide(stale.snapshot(), SchedulerPolicy.defaults());
        assertThat(staleDecision.placements()).hasSize(1);
        Instant later = T0.plus(TTL).plusSeconds(2);
        assertThat(acquire("api-b", later)).isTrue();

        DecisionApplier.Applied applied =
                inTransaction(() -> LeaderCycle.applyAsLeader(c, "api-a", staleDecision, stale, later.plusSeconds(1)));

        assertThat(applied)
                .as("nothing applied by the replica that lost the lease")
                .isNull();
        assertThat(rows.jobRow(job).state()).isEqualTo("QUEUED");
        assertThat(rows.jobRow(job).version()).isZero();
        assertThat(rows.count("select count(*) from attempts")).isZero();
        assertThat(rows.events(job)).isEmpty();

        // The new leader places it.
        SnapshotLoader.Loaded fresh = SnapshotLoader.load(c, later.plusSeconds(1), Rows.HEARD_WITHIN);
        Decision decision = new Scheduler().decide(fresh.snapshot(), SchedulerPolicy.defaults());
        DecisionApplier.Applied placed =
                inTransaction(() -> LeaderCycle.applyAsLeader(c, "api-b", decision, fresh, later.plusSeconds(1)));
        assertThat(placed.placed()).isEqualTo(1);
        assertThat(rows.count("select count(*) from attempts where job_id = ?", job))
                .isEqualTo(1);
    }

    @Test
    void nobodyTakesOverWhileTheLeaderIsInsideAWriteTransaction() throws Exception {
        assertThat(acquire("api-a", T0)).isTrue();
        c.setAutoCommit(false);
        assertThat(LeaderLease.holdWithin(c, "api-a", T0.plusSeconds(9))).isTrue();

        // api-b's clock says the lease has expired, but api-a is still writing under it.
        Future<Boolean> takeover =
                threads.submit(() -> acquire("api-b", T0.plus(TTL).plusSeconds(1)));
        assertThatThrownBy(() -> takeover.get(700, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        assertThat(LeaderLease.holdWithin(c, "api-a", T0.plusSeconds(9))).isTrue();
        c.commit();
        c.setAutoCommit(true);

        assertThat(takeover.get(10, TimeUnit.SECONDS))
                .as("taken over once the transaction ended")
                .isTrue();
        assertThat(LeaderLease.holdWithin(c, "api-a", T0.plus(TTL).plusSeconds(2)))
                .isFalse();
        assertThat(LeaderLease.holdWithin(c, "api-b", T0.plus(TTL).plusSeconds(2)))
                .isTrue();
    }

    @FunctionalInterface
    private interface Work<T> {
        T run() throws Exception;
    }

    private <T> T inTransaction(Work<T> work) throws Exception {
        c.setAutoCommit(false);
        try {
            T result = work.run();
            c.commit();
            return result;
        } catch (Exception e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
