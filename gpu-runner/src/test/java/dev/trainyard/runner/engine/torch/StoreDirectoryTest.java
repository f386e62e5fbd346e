package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.runner.engine.PeerLostException;
import dev.trainyard.runner.engine.StorePorts;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Processes of a job across hosts find their groups' stores through process 0's directory: an address announced by
 * any process reaches every other, whoever joins first, and a lookup nobody answers ends at the timeout.
 */
class StoreDirectoryTest {
    static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void addressesAnnouncedByAnyProcessReachEveryOther() throws Exception {
        int port = StorePorts.free();
        // the clients start first: they wait for process 0 to listen
        List<CompletableFuture<List<String>>> clients = List.of(1, 2).stream()
                .map(q -> CompletableFuture.supplyAsync(() -> {
                    try (StoreDirectory directory = StoreDirectory.join("127.0.0.1", port, TIMEOUT, () -> false)) {
                        directory.announce("pipeline/" + q, "host-" + q + ":" + (7000 + q));
                        List<String> seen = List.of(
                                directory.lookUp("pipeline/0"),
                                directory.lookUp("pipeline/1"),
                                directory.lookUp("pipeline/2"));
                        directory.finishLookUps(3, false);
                        return seen;
                    }
                }))
                .toList();
        List<String> seenByZero;
        try (StoreDirectory directory = StoreDirectory.serve("127.0.0.1", port, TIMEOUT, () -> false)) {
            directory.announce("pipeline/0", "host-0:7000");
            seenByZero = List.of(directory.lookUp("pipeline/1"), directory.lookUp("pipeline/2"));
            directory.finishLookUps(3, true);
        }

        assertThat(seenByZero).containsExactly("host-1:7001", "host-2:7002");
        for (CompletableFuture<List<String>> client : clients) {
            assertThat(client.get()).containsExactly("host-0:7000", "host-1:7001", "host-2:7002");
        }
    }

    @Test
    void aStoreNobodyAnnouncesEndsTheLookUpAtTheTimeout() throws Exception {
        try (StoreDirectory directory =
                StoreDirectory.serve("127.0.0.1", StorePorts.free(), Duration.ofMillis(500), () -> false)) {
            assertThatThrownBy(() -> directory.lookUp("replicas/1"))
                    .isInstanceOf(PeerLostException.class)
                    .hasMessageContaining("replicas/1");
        }
    }
}
