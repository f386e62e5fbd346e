package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.PeerLostException;
import dev.trainyard.runner.engine.StorePorts;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Two ranks in one JVM (Gloo over a TCP store), one of which stops taking part: a hung peer. */
class ReplicaGroupTest {

  @Test
  void aRankWaitingOnAHungPeerGivesUpOnceTheRunIsAbandoned() throws Exception {
    NativeRuntime.load();
    int port = StorePorts.freeRun(2);
    AtomicBoolean abandoned = new AtomicBoolean();
    // the collective timeout is far longer than the test waits: only abandoning can end the wait in time
    Duration timeout = Duration.ofSeconds(60);
    CompletableFuture<ReplicaGroup> rankZero = CompletableFuture.supplyAsync(() -> new ReplicaGroup(
        DataParallelGroup.evenly(0, 2, "127.0.0.1", port).withTimeout(timeout), 1, abandoned::get));
    CompletableFuture<ReplicaGroup> rankOne = CompletableFuture.supplyAsync(() -> new ReplicaGroup(
        DataParallelGroup.evenly(1, 2, "127.0.0.1", port).withTimeout(timeout), 1, () -> false));
    ReplicaGroup zero = rankZero.get(30, TimeUnit.SECONDS);
    ReplicaGroup one = rankOne.get(30, TimeUnit.SECONDS);

    // both take part: the collective completes
    CompletableFuture<Integer> both = CompletableFuture.supplyAsync(() -> one.agreeOnMaximum(7));
    assertThat(zero.agreeOnMaximum(3)).isEqualTo(7);
    assertThat(both.get(10, TimeUnit.SECONDS)).isEqualTo(7);

    // rank 1 hangs (never joins); rank 0 waits until its run is abandoned, then fails at once
    CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> zero.agreeOnMaximum(1));
    Thread.sleep(300);
    assertThat(waiting).as("still waiting for the hung peer").isNotDone();
    long abandonedAt = System.nanoTime();
    abandoned.set(true);
    try {
      waiting.get(10, TimeUnit.SECONDS);
      throw new AssertionError("the collective completed without its peer");
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(PeerLostException.class).hasMessageContaining("abandoned");
    }
    assertThat(Duration.ofNanos(System.nanoTime() - abandonedAt)).isLessThan(Duration.ofSeconds(1));

    // the late peer's collective meets the one rank 0 left behind, so nothing stays blocked
    assertThat(CompletableFuture.supplyAsync(() -> one.agreeOnMaximum(0)).get(10, TimeUnit.SECONDS)).isEqualTo(1);
  }
}
