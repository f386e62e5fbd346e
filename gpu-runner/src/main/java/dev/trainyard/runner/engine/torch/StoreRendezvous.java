package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.PeerLostException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;

/**
 * How processes meet over c10d TCP stores, for the data-parallel groups ({@link ReplicaGroup}) and the links of a
 * pipeline across processes ({@link PipelineLinks}): rank 0 serves stores, the others connect once rank 0 listens,
 * and every process checks in at the control store (a counter polled every {@link #WAIT_SLICE_MS} ms) before
 * anyone enters libtorch's blocking joins, so a peer that never comes costs no more than the run's abandonment or
 * the timeout. It owns the stores it opens; its owner closes them after the process groups built on them.
 */
final class StoreRendezvous {
    /** How long one wait lasts before the run's abandonment is looked at. */
    static final long WAIT_SLICE_MS = 100;

    private final String host;
    private final Duration timeout;
    private final BooleanSupplier abandoned;
    /** Who is joining, for messages: "data-parallel rank 1", "pipeline rank 0". */
    private final String who;

    private final List<TCPStore> stores = new ArrayList<>();

    StoreRendezvous(String host, Duration timeout, BooleanSupplier abandoned, String who) {
        this.host = host;
        this.timeout = timeout;
        this.abandoned = abandoned;
        this.who = who;
    }

    /**
     * The store on {@code port}: served here when {@code server}, else a client of it that first waits, abandonably,
     * until the server accepts connections (rank 0 may start later than this process).
     */
    TCPStore join(int port, boolean server) {
        if (!server) {
            awaitListening(port);
        }
        return open(port, server);
    }

    /** A store opened here now; a server on port 0 listens on a port the system picks. */
    TCPStore open(int port, boolean server) {
        TCPStoreOptions options = new TCPStoreOptions();
        options.port((short) port);
        options.isServer(server);
        options.waitWorkers(false);
        options.timeout(new Milliseconds(timeout.toMillis()));
        TCPStore store = new TCPStore(host, options);
        stores.add(store);
        return store;
    }

    /** A Gloo group of {@code size} processes over {@code store}. */
    Backend gloo(TCPStore store, int rank, int size) {
        ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(new Milliseconds(timeout.toMillis()));
        options.devices(new GlooDeviceVector(ProcessGroupGloo.createDeviceForHostname(host)));
        try {
            return new ProcessGroupGloo(store, rank, size, options);
        } catch (RuntimeException e) {
            disown(store);
            throw e;
        }
    }

    /**
     * A group's native constructor adopts the store into an intrusive_ptr before it runs; when it throws, that
     * pointer dies with it and deletes the store, so JavaCPP must not delete it a second time.
     */
    void disown(TCPStore store) {
        store.deallocate(false);
        stores.remove(store);
    }

    /** Checks in under {@code key} at the control store and waits until all {@code processes} have. */
    void awaitEveryProcess(TCPStore store, String key, int processes, String peers) {
        store.add(key, 1);
        long deadline = System.nanoTime() + timeout.toNanos();
        long joined;
        while ((joined = store.add(key, 0)) < processes) {
            pauseWhileJoining(deadline, "only " + joined + " of " + processes + " " + peers + " joined");
        }
    }

    /** Closes the stores; only after the groups built on them are closed (their teardown still touches them). */
    void closeStores() {
        stores.forEach(TCPStore::close);
        stores.clear();
    }

    private void awaitListening(int port) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), (int) WAIT_SLICE_MS);
                return;
            } catch (IOException e) {
                pauseWhileJoining(deadline, "rank 0's store at " + host + ":" + port + " did not open");
            }
        }
    }

    private void pauseWhileJoining(long deadline, String reason) {
        if (abandoned.getAsBoolean()) {
            throw new PeerLostException(
                    who + " stopped waiting for its peers to join: the run was abandoned (" + reason + ")");
        }
        if (System.nanoTime() > deadline) {
            throw new PeerLostException(who + " gave up joining after " + timeout.toSeconds() + " s: " + reason);
        }
        try {
            Thread.sleep(WAIT_SLICE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PeerLostException(who + " interrupted while joining");
        }
    }
}
