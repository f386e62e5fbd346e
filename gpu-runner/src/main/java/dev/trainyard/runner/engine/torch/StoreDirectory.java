package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.PeerLostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;

/**
 * Where the processes of a job spread over hosts learn each other's store addresses: a TCP store served by process
 * 0, at the one address the platform publishes, in which each group's rank 0 announces the host:port it will serve
 * its group's control store on. The groups' stores themselves stay with their rank 0s (as {@link ReplicaGroup} and
 * {@link PipelineLinks} serve them), wherever those run.
 */
public final class StoreDirectory implements AutoCloseable {
    private static final String LOOKED_UP_KEY = "directory/looked-up";

    private final StoreRendezvous rendezvous;
    private final TCPStore store;
    private final Duration timeout;
    private final BooleanSupplier abandoned;

    private StoreDirectory(String host, int port, boolean server, Duration timeout, BooleanSupplier abandoned) {
        this.rendezvous = new StoreRendezvous(host, timeout, abandoned, server ? "process 0" : "a process");
        this.store = rendezvous.join(port, server);
        this.timeout = timeout;
        this.abandoned = abandoned;
    }

    /** The directory served here, on {@code port} of {@code host}. */
    public static StoreDirectory serve(String host, int port, Duration timeout, BooleanSupplier abandoned) {
        return new StoreDirectory(host, port, true, timeout, abandoned);
    }

    /** A client of the directory process 0 serves at {@code host:port}, once it listens. */
    public static StoreDirectory join(String host, int port, Duration timeout, BooleanSupplier abandoned) {
        return new StoreDirectory(host, port, false, timeout, abandoned);
    }

    /** Tells every process that {@code key}'s store will listen at {@code address} (host:port). */
    public void announce(String key, String address) {
        store.set(key, address);
    }

    /** The address announced under {@code key}, waiting (abandonably, up to the timeout) until it is. */
    public String lookUp(String key) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (StringVector keys = new StringVector(key)) {
            while (!store.check(keys)) {
                if (abandoned.getAsBoolean() || System.nanoTime() > deadline) {
                    throw new PeerLostException(
                            "no process announced the store of " + key + " within " + timeout.toSeconds() + " s");
                }
                pause();
            }
        }
        try (ByteVector value = store.get(key)) {
            return new String(value.get(), StandardCharsets.UTF_8);
        }
    }

    /**
     * Counts this process as done looking up; process 0, which serves the directory, waits until all
     * {@code processes} are, so that it closes the directory only after nobody needs it.
     */
    public void finishLookUps(int processes, boolean server) {
        if (server) {
            rendezvous.awaitEveryProcess(store, LOOKED_UP_KEY, processes, "processes of the job");
        } else {
            store.add(LOOKED_UP_KEY, 1);
        }
    }

    @Override
    public void close() {
        rendezvous.closeStores();
    }

    private static void pause() {
        try {
            Thread.sleep(StoreRendezvous.WAIT_SLICE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PeerLostException("interrupted while looking up a store");
        }
    }
}
