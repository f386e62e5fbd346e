package dev.trainyard.api.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay between the API and PostgreSQL that a test can cut, as if the database went down (open connections
 * break, new ones are refused), and restore. Used as a test resource: it points the datasource at itself.
 */
public final class PostgresProxy implements QuarkusTestResourceLifecycleManager {
    private static volatile PostgresProxy running;

    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private String targetHost;
    private int targetPort;
    private int port;
    private volatile ServerSocket listener;

    /** The relay of the running test application. */
    public static PostgresProxy running() {
        return running;
    }

    @Override
    public Map<String, String> start() {
        String url = new TestDatabase().start().get("quarkus.datasource.jdbc.url");
        URI server = URI.create(TestDatabase.baseOf(url).substring("jdbc:".length()));
        targetHost = server.getHost();
        targetPort = server.getPort() < 0 ? 5432 : server.getPort();
        listen(0);
        running = this;
        String proxied = "jdbc:postgresql://127.0.0.1:" + port + "/" + TestDatabase.databaseOf(url);
        return Map.of("quarkus.datasource.jdbc.url", proxied);
    }

    /** Runs after the shared {@link TestDatabase}, so that its datasource URL is the one that counts. */
    @Override
    public int order() {
        return 100;
    }

    @Override
    public void stop() {
        cut();
        running = null;
    }

    /** The database goes away: every connection through the relay breaks and new ones are refused. */
    public synchronized void cut() {
        closeQuietly(listener);
        listener = null;
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    /** The database is back on the same address. */
    public synchronized void restore() {
        if (listener == null) {
            listen(port);
        }
    }

    private void listen(int wanted) {
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), wanted));
            port = socket.getLocalPort();
            listener = socket;
            Thread accepting = new Thread(() -> accept(socket), "postgres-proxy-accept");
            accepting.setDaemon(true);
            accepting.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + wanted, e);
        }
    }

    private void accept(ServerSocket socket) {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Socket server = new Socket(targetHost, targetPort);
                open.add(client);
                open.add(server);
                relay(client, server);
                relay(server, client);
            } catch (IOException e) {
                // the listener was closed by cut(), or PostgreSQL refused: the client sees a closed connection
            }
        }
    }

    private void relay(Socket from, Socket to) {
        Thread copying = new Thread(
                () -> {
                    byte[] buffer = new byte[16 * 1024];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        for (int n; (n = in.read(buffer)) >= 0; ) {
                            out.write(buffer, 0, n);
                            out.flush();
                        }
                    } catch (IOException e) {
                        // either side closed
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                        open.remove(from);
                        open.remove(to);
                    }
                },
                "postgres-proxy-relay");
        copying.setDaemon(true);
        copying.start();
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (IOException e) {
            // already closed
        }
    }
}
