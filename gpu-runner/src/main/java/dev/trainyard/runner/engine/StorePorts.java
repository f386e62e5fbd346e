package dev.trainyard.runner.engine;

import java.io.IOException;
import java.net.ServerSocket;

/** Finds free ports for the TCP stores a data-parallel rank 0 hosts: one for control, one per stage. */
public final class StorePorts {
    private static final int TRIES = 100;

    private StorePorts() {}

    /**
     * A base port with the next {@code count - 1} ports free as well. The ports are released again before the
     * stores bind them, so another process could take one in between; the attempt then fails and is retried.
     */
    public static int freeRun(int count) throws IOException {
        for (int attempt = 0; attempt < TRIES; attempt++) {
            int base;
            try (ServerSocket probe = new ServerSocket(0)) {
                base = probe.getLocalPort();
            }
            if (base + count <= 65535 && allFree(base, count)) {
                return base;
            }
        }
        throw new IOException("found no " + count + " consecutive free ports");
    }

    private static boolean allFree(int base, int count) {
        for (int port = base; port < base + count; port++) {
            try (ServerSocket ignored = new ServerSocket(port)) {
                // free
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
