package dev.trainyard.api.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.jobs.JobsChanged;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A change wakes the heartbeats of the runners it names (or of all), and no others; no change is missed. */
class AssignmentWaitersTest {
    private final AssignmentWaiters waiters = new AssignmentWaiters();

    /** Waits like a heartbeat of {@code runner} that read its assignments at {@code seen}; returns ms waited. */
    private CompletableFuture<Long> waitFor(long runner, long seen, long timeoutMs) {
        return CompletableFuture.supplyAsync(() -> {
            long t0 = System.nanoTime();
            waiters.awaitChange(runner, seen, timeoutMs);
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        });
    }

    @Test
    void aChangeNamingARunnerWakesItsHeartbeatAndNoOther() throws Exception {
        CompletableFuture<Long> named = waitFor(1, waiters.version(1), 20_000);
        CompletableFuture<Long> other = waitFor(2, waiters.version(2), 1_500);
        Thread.sleep(200);

        waiters.onChange(JobsChanged.runners(List.of(1L)));

        assertThat(named.get(10, TimeUnit.SECONDS)).isLessThan(10_000);
        assertThat(other.get(10, TimeUnit.SECONDS))
                .as("runner 2 slept its whole wait")
                .isGreaterThanOrEqualTo(1_400);
    }

    @Test
    void aChangeForAllRunnersWakesEveryHeartbeat() throws Exception {
        CompletableFuture<Long> first = waitFor(1, waiters.version(1), 20_000);
        CompletableFuture<Long> second = waitFor(2, waiters.version(2), 20_000);
        Thread.sleep(200);

        waiters.onChange(JobsChanged.everything());

        assertThat(first.get(10, TimeUnit.SECONDS)).isLessThan(10_000);
        assertThat(second.get(10, TimeUnit.SECONDS)).isLessThan(10_000);
    }

    @Test
    void aChangeBetweenReadingAndWaitingIsNotMissed() throws Exception {
        long seen = waiters.version(7);
        waiters.onChange(JobsChanged.runners(List.of(7L)));

        assertThat(waitFor(7, seen, 20_000).get(10, TimeUnit.SECONDS)).isLessThan(10_000);
    }

    @Test
    void aChangeThatOnlyAsksForSchedulingWakesNoHeartbeat() throws Exception {
        CompletableFuture<Long> waiting = waitFor(3, waiters.version(3), 1_000);
        Thread.sleep(100);

        waiters.onChange(JobsChanged.queue());

        assertThat(waiting.get(10, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(900);
    }
}
