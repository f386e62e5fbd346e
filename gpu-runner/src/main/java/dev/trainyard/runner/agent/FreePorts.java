package dev.trainyard.runner.agent;

import java.io.IOException;
import java.net.ServerSocket;

/** Finds consecutive free TCP ports for a data-parallel rank 0's stores. */
final class FreePorts {
  private static final int TRIES = 100;

  private FreePorts() {}

  /**
   * A base port with the next {@code count - 1} ports free as well. The ports are released again before the
   * stores bind them, so another process could take one in between; the attempt then fails and is retried.
   */
  static int run(int count) throws IOException {
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
