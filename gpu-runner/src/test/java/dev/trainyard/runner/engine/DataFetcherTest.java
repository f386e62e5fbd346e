package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.trainyard.spec.DataAccessPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only the runner can check of a pool's data access policy: where links really lead, what a host name
 * resolves to, where redirects go, and how long a download really is. The HTTP server listens on 127.0.0.1 only.
 */
class DataFetcherTest {
    static final byte[] SECRET = "the runner's secrets".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    HttpServer server;
    final AtomicInteger secretReads = new AtomicInteger();
    String base;

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        base = "http://localhost:" + server.getAddress().getPort();
        String loopback = "http://127.0.0.1:" + server.getAddress().getPort();
        server.createContext(
                "/corpus.txt", exchange -> respond(exchange, 200, "tokens".getBytes(StandardCharsets.UTF_8)));
        server.createContext("/to-loopback", exchange -> redirect(exchange, loopback + "/secret"));
        server.createContext("/to-file", exchange -> redirect(exchange, "file:///etc/passwd"));
        server.createContext("/loop", exchange -> redirect(exchange, "/loop"));
        server.createContext("/secret", exchange -> {
            secretReads.incrementAndGet();
            respond(exchange, 200, SECRET);
        });
        server.createContext("/big", exchange -> respond(exchange, 200, new byte[1000]));
        server.createContext("/big-chunked", exchange -> {
            exchange.sendResponseHeaders(200, 0);
            try (var out = exchange.getResponseBody()) {
                out.write(new byte[1000]);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aFileUnderADataRootIsRead() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(root.resolve("corpus.txt"), "tokens");

        byte[] read = DataFetcher.under(policy(List.of(root.toString()), List.of(), false, null))
                .readBytes("data.uri", root.resolve("corpus.txt").toUri().toString());

        assertThat(new String(read, StandardCharsets.UTF_8)).isEqualTo("tokens");
    }

    @Test
    void aLinkInsideADataRootThatLeadsOutOfItIsRefused() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("data"));
        Path outside = Files.writeString(tmp.resolve("runner-secrets.txt"), "token=ty_secret");
        Path link = Files.createSymbolicLink(root.resolve("innocent.csv"), outside);
        Path linkedDir = Files.createSymbolicLink(root.resolve("etc"), Files.createDirectories(tmp.resolve("etc")));
        Files.writeString(tmp.resolve("etc/passwd"), "root:x:0:0");
        DataFetcher fetcher = DataFetcher.under(policy(List.of(root.toString()), List.of(), false, null));

        assertThatThrownBy(() -> fetcher.readBytes("data.uri", link.toUri().toString()))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("data.uri " + link.toUri())
                .hasMessageContaining("rule outside-data-roots")
                .hasMessageContaining("through a link");
        assertThatThrownBy(() -> fetcher.localFile("model.uri", "file://" + linkedDir + "/passwd"))
                .hasMessageContaining("rule outside-data-roots");
    }

    @Test
    void aDataRootThatIsItselfALinkAdmitsTheFilesItReallyHolds() throws IOException {
        Path real = Files.createDirectories(tmp.resolve("volume"));
        Files.writeString(real.resolve("table.csv"), "a,b");
        Path root = Files.createSymbolicLink(tmp.resolve("data"), real);

        Path file = DataFetcher.under(policy(List.of(root.toString()), List.of(), false, null))
                .localFile("data.uri", "file://" + root + "/table.csv");

        assertThat(file).isEqualTo(real.resolve("table.csv").toRealPath());
    }

    @Test
    void aMissingFileIsNamedAsMissing() {
        Path root = tmp.resolve("data");
        assertThatThrownBy(() -> DataFetcher.under(policy(List.of(root.toString()), List.of(), false, null))
                        .localFile("model.uri", "file://" + root + "/none.pt"))
                .hasMessageContaining("model.uri file://" + root + "/none.pt: no such file");
    }

    @Test
    void anAllowedHostIsDownloaded() {
        byte[] read = DataFetcher.under(policy(List.of(), List.of("localhost"), true, null))
                .readBytes("data.uri", base + "/corpus.txt");

        assertThat(new String(read, StandardCharsets.UTF_8)).isEqualTo("tokens");
    }

    @Test
    void aHostWhoseNameResolvesToAPrivateAddressIsRefusedBeforeAnyConnection() {
        DataFetcher fetcher = DataFetcher.under(
                policy(List.of(), List.of("localhost"), false, null),
                host -> List.of(InetAddress.getByName("10.0.0.7")));

        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/secret"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("rule private-address")
                .hasMessageContaining("resolves to 10.0.0.7, a private address");
        assertThatThrownBy(() -> DataFetcher.under(policy(List.of(), List.of("localhost"), false, null))
                        .readBytes("data.uri", base + "/secret"))
                .as("localhost itself, through the real resolver")
                .hasMessageContaining("rule private-address")
                .hasMessageContaining("loopback");
        assertThat(secretReads).hasValue(0);
    }

    @Test
    void aRedirectToALoopbackAddressIsRefusedAtItsHop() {
        // the first hop passes as if localhost were public; the redirect names 127.0.0.1 and is checked anew
        DataFetcher fetcher = DataFetcher.under(
                policy(List.of(), List.of("localhost", "127.0.0.1"), false, null),
                host -> List.of(InetAddress.getByName(host.equals("localhost") ? "93.184.215.14" : host)));

        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/to-loopback"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("rule private-address")
                .hasMessageContaining("redirected to http://127.0.0.1:");
        assertThat(secretReads).as("the redirect's target is never asked").hasValue(0);
    }

    @Test
    void aRedirectToAHostNotAllowedOrToAFileIsRefused() {
        DataFetcher fetcher = DataFetcher.under(policy(List.of("/"), List.of("localhost"), true, null));

        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/to-loopback"))
                .hasMessageContaining("rule host-not-allowed")
                .hasMessageContaining("redirected to");
        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/to-file"))
                .hasMessageContaining("rule scheme-not-allowed");
        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/loop"))
                .hasMessageContaining("rule too-many-redirects");
        assertThat(secretReads).hasValue(0);
    }

    @Test
    void aDownloadLongerThanThePoolsCapFails() {
        DataFetcher fetcher = DataFetcher.under(policy(List.of(), List.of("localhost"), true, 100L));

        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/big"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("rule size-cap")
                .hasMessageContaining("1000 bytes declared");
        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/big-chunked"))
                .as("a body without a length is counted while it arrives")
                .hasMessageContaining("rule size-cap");
        assertThat(fetcher.readBytes("data.uri", base + "/corpus.txt")).hasSize(6);
    }

    @Test
    void offlineAnyFileIsRead() throws IOException {
        Path file = Files.writeString(tmp.resolve("mine.txt"), "mine");
        assertThat(DataFetcher.unrestricted().readBytes("data.uri", file.toString()))
                .hasSize(4);
    }

    private static DataAccessPolicy policy(List<String> roots, List<String> hosts, boolean privateNetworks, Long cap) {
        return new DataAccessPolicy(roots, hosts, privateNetworks, cap);
    }

    private static void respond(com.sun.net.httpserver.HttpExchange exchange, int status, byte[] body)
            throws IOException {
        exchange.sendResponseHeaders(status, body.length);
        try (var out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static void redirect(com.sun.net.httpserver.HttpExchange exchange, String location) throws IOException {
        exchange.getResponseHeaders().add("Location", location);
        exchange.sendResponseHeaders(302, -1);
        exchange.close();
    }
}
