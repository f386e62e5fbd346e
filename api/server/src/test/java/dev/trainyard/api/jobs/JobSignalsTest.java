package dev.trainyard.api.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.agroal.api.AgroalDataSource;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Job changes reach this replica's listeners and the other replicas only once they have committed, never when
 * they roll back; a burst of changes leaves as one NOTIFY; another replica's NOTIFY becomes a local event and this
 * replica's own is not taken twice.
 */
@QuarkusTest
class JobSignalsTest {
    @Inject
    JobSignals signals;

    @Inject
    RecordedChanges recorded;

    @Inject
    AgroalDataSource dataSource;

    private Connection listener;

    @BeforeEach
    void listen() throws SQLException {
        listener = connect();
        try (Statement s = listener.createStatement()) {
            s.execute("listen " + JobSignals.CHANNEL);
        }
    }

    @AfterEach
    void close() throws SQLException {
        listener.close();
    }

    @Test
    void aChangeIsPublishedOnlyOnceItsTransactionCommits() throws Exception {
        QuarkusTransaction.requiringNew().run(() -> {
            signals.changed(JobsChanged.runners(List.of(4242L)));
            assertThat(recorded.anyNames(4242)).as("heard before the commit").isFalse();
        });

        assertThat(recorded.anyNames(4242)).as("heard at the commit").isTrue();
        assertThat(awaitNotified(4242, 10_000)).as("other replicas told").isNotNull();
    }

    @Test
    void aRolledBackChangeSaysNothing() throws Exception {
        assertThatThrownBy(() -> QuarkusTransaction.requiringNew().run(() -> {
                    signals.changed(JobsChanged.runners(List.of(4343L)));
                    throw new IllegalStateException("rolled back");
                }))
                .isInstanceOf(RuntimeException.class);

        assertThat(awaitNotified(4343, 1_500)).isNull();
        assertThat(recorded.anyNames(4343)).isFalse();
    }

    @Test
    void aSubmissionAsksTheSchedulerToLookOnceCommitted() throws Exception {
        int before = recorded.count();

        Fixtures.submit(Spec.gpt(Fixtures.project(), Fixtures.pool()));

        assertThat(recorded.since(before)).anyMatch(JobsChanged::schedule);
        JobsChanged.Decoded sent = null;
        for (long deadline = System.currentTimeMillis() + 10_000;
                sent == null && System.currentTimeMillis() < deadline; ) {
            sent = next(deadline - System.currentTimeMillis(), d -> d.change().schedule());
        }
        assertThat(sent).as("a NOTIFY asking the leader to schedule").isNotNull();
        assertThat(sent.origin()).isEqualTo(signals.origin());
    }

    @Test
    void anotherReplicasNotificationBecomesAnEventAndThisReplicasOwnDoesNot() throws Exception {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            s.execute("select pg_notify('" + JobSignals.CHANNEL + "', '" + signals.origin() + " - 5252')");
            s.execute("select pg_notify('" + JobSignals.CHANNEL + "', 'api-elsewhere - 5353')");
        }

        long deadline = System.currentTimeMillis() + 10_000;
        while (!recorded.anyNames(5353) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(recorded.anyNames(5353)).isTrue();
        // delivered in order on the one LISTEN connection: had the own one been taken, it would be recorded by now
        assertThat(recorded.anyNames(5252)).isFalse();
    }

    @Test
    void changesQueuedMeanwhileLeaveAsOneNotification() throws Exception {
        JobChangeNotifier notifier = new JobChangeNotifier(dataSource, "api-test");
        notifier.add(JobsChanged.runners(List.of(6161L)));
        notifier.add(JobsChanged.queue());
        notifier.add(JobsChanged.runners(List.of(6262L)));

        assertThat(notifier.runOnce()).isTrue();
        assertThat(notifier.runOnce()).as("nothing left").isFalse();

        List<JobsChanged.Decoded> sent = drain(2_000, d -> d.origin().equals("api-test"));
        assertThat(sent).hasSize(1);
        assertThat(sent.get(0).change()).isEqualTo(new JobsChanged(true, false, java.util.Set.of(6161L, 6262L)));
    }

    @Test
    void aChangeWhoseNotificationFailedIsSentWithTheNextOne() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        JobChangeNotifier notifier = new JobChangeNotifier(failingFirst(calls), "api-retry");
        notifier.add(JobsChanged.runners(List.of(7171L)));

        assertThatThrownBy(notifier::runOnce).isInstanceOf(SQLException.class);
        notifier.add(JobsChanged.runners(List.of(7272L)));
        assertThat(notifier.runOnce()).isTrue();

        List<JobsChanged.Decoded> sent = drain(2_000, d -> d.origin().equals("api-retry"));
        assertThat(sent).hasSize(1);
        assertThat(sent.get(0).change().runners()).containsExactlyInAnyOrder(7171L, 7272L);
    }

    /** A data source whose first connection fails, as when the database is briefly away. */
    private DataSource failingFirst(AtomicInteger calls) {
        return (DataSource) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getConnection") && calls.getAndIncrement() == 0) {
                        throw new SQLException("database away");
                    }
                    try {
                        return method.invoke(dataSource, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The first notification within {@code ms} whose change wakes {@code runner}, or null. */
    private JobsChanged.Decoded awaitNotified(long runner, long ms) throws SQLException {
        long deadline = System.currentTimeMillis() + ms;
        JobsChanged.Decoded found = null;
        while (found == null && System.currentTimeMillis() < deadline) {
            found = next(
                    deadline - System.currentTimeMillis(),
                    d -> d.change().wakes(runner) && !d.change().allRunners());
        }
        return found;
    }

    private JobsChanged.Decoded next(long ms, java.util.function.Predicate<JobsChanged.Decoded> wanted)
            throws SQLException {
        PGNotification[] notes = listener.unwrap(PGConnection.class).getNotifications((int) Math.max(1, ms));
        if (notes != null) {
            for (PGNotification n : notes) {
                JobsChanged.Decoded d = JobsChanged.decode(n.getParameter());
                if (d.origin() != null && wanted.test(d)) {
                    return d;
                }
            }
        }
        return null;
    }

    /** Every matching notification that arrives within {@code ms}. */
    private List<JobsChanged.Decoded> drain(long ms, java.util.function.Predicate<JobsChanged.Decoded> wanted)
            throws SQLException {
        List<JobsChanged.Decoded> out = new ArrayList<>();
        long deadline = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < deadline) {
            PGNotification[] notes = listener.unwrap(PGConnection.class)
                    .getNotifications((int) Math.max(1, deadline - System.currentTimeMillis()));
            if (notes != null) {
                for (PGNotification n : notes) {
                    JobsChanged.Decoded d = JobsChanged.decode(n.getParameter());
                    if (d.origin() != null && wanted.test(d)) {
                        out.add(d);
                    }
                }
            }
        }
        return out;
    }

    private static Connection connect() throws SQLException {
        String url = ConfigProvider.getConfig().getValue("quarkus.datasource.jdbc.url", String.class);
        String user = ConfigProvider.getConfig()
                .getOptionalValue("quarkus.datasource.username", String.class)
                .orElse("postgres");
        return DriverManager.getConnection(url, user, "");
    }
}
