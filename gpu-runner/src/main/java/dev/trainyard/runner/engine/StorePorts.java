package dev.trainyard.runner.engine;

import java.io.IOException;
import java.net.ServerSocket;

/**
 * Finds a free port for the control store a data-parallel rank 0 hosts and publishes to its peers before the
 * store exists. The stage stores need no such guess: rank 0 binds them on ports the system picks and announces
 * them through the control store.
 */
public final class StorePorts {

    private StorePorts() {}

    /**
     * A port free now. It is released again before the store binds it, so another process could take it in
     * between; joining then fails and the attempt is retried.
     */
    public static int free() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }
}
