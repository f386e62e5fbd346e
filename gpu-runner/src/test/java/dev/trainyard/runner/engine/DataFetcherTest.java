package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.trainyard.spec.DataAccessPolicy;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.TrustManagerFactory;
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
    /** A public address this test's network routes to the local server. */
    static final String PUBLIC = "93.184.215.14";
    /** A public address this test's network cannot reach. */
    static final String UNREACHABLE_PUBLIC = "8.8.8.8";

    @TempDir
    Path tmp;

    HttpServer server;
    SSLContext tls;
    final List<String> serverNames = new CopyOnWriteArrayList<>();
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
        server.createContext(
                "/to-rebind",
                exchange -> redirect(
                        exchange, "http://rebind.test:" + server.getAddress().getPort() + "/secret"));
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
        // the first hop passes as if localhost were public (this test's network routes that address to the local
        // server); the redirect names 127.0.0.1 and is checked anew
        DataFetcher fetcher = routedFetcher(
                policy(List.of(), List.of("localhost", "127.0.0.1"), false, null),
                host -> List.of(InetAddress.getByName(host.equals("localhost") ? PUBLIC : host)),
                new ArrayList<>());

        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/to-loopback"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("rule private-address")
                .hasMessageContaining("redirected to http://127.0.0.1:");
        assertThat(secretReads).as("the redirect's target is never asked").hasValue(0);
    }

    @Test
    void aSecondDnsAnswerNeverReceivesTheConnection() {
        // DNS rebinding: the check sees a public address, any later lookup says 127.0.0.1
        AtomicInteger lookups = new AtomicInteger();
        DataFetcher.HostResolver rebinding = host ->
                List.of(InetAddress.getByName(lookups.getAndIncrement() == 0 ? UNREACHABLE_PUBLIC : "127.0.0.1"));
        List<InetSocketAddress> dialed = new ArrayList<>();
        DataFetcher fetcher = routedFetcher(policy(List.of(), List.of("localhost"), false, null), rebinding, dialed);

        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/secret"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("could not be downloaded");
        assertThat(dialed)
                .extracting(a -> a.getAddress().getHostAddress())
                .as("the connection goes to the checked address only")
                .containsExactly(UNREACHABLE_PUBLIC);
        assertThat(secretReads).as("the loopback server never sees the request").hasValue(0);
    }

    @Test
    void aRedirectHopConnectsOnlyToTheAddressItsOwnCheckSaw() {
        AtomicInteger rebindLookups = new AtomicInteger();
        DataFetcher.HostResolver resolver = host -> List.of(InetAddress.getByName(
                host.equals("localhost")
                        ? PUBLIC
                        : rebindLookups.getAndIncrement() == 0 ? UNREACHABLE_PUBLIC : "127.0.0.1"));
        List<InetSocketAddress> dialed = new ArrayList<>();
        DataFetcher fetcher =
                routedFetcher(policy(List.of(), List.of("localhost", "rebind.test"), false, null), resolver, dialed);

        assertThatThrownBy(() -> fetcher.readBytes("data.uri", base + "/to-rebind"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("could not be downloaded from http://rebind.test:");
        assertThat(dialed).extracting(a -> a.getAddress().getHostAddress()).containsExactly(PUBLIC, UNREACHABLE_PUBLIC);
        assertThat(secretReads).hasValue(0);
    }

    @Test
    void chunkedAndCloseDelimitedBodiesArriveWhole() throws IOException {
        DataFetcher fetcher = DataFetcher.under(policy(List.of(), List.of("localhost"), true, null));
        assertThat(fetcher.readBytes("data.uri", base + "/big-chunked")).hasSize(1000);

        try (ServerSocket raw = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Thread answer = new Thread(() -> {
                try (Socket client = raw.accept()) {
                    PinnedHttpGet.readLine(client.getInputStream()); // the request line; the rest is not needed
                    client.getOutputStream()
                            .write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
                                    .getBytes(StandardCharsets.ISO_8859_1));
                } catch (IOException e) {
                    // the assertion below reports what arrived
                }
            });
            answer.start();
            byte[] read = fetcher.readBytes("data.uri", "http://localhost:" + raw.getLocalPort() + "/plain");
            assertThat(new String(read, StandardCharsets.UTF_8)).isEqualTo("until the end");
        }
    }

    @Test
    void httpsOverTheCheckedAddressVerifiesTheCertificateAgainstTheUrisHost() throws Exception {
        HttpsServer https = httpsServer("localhost");
        DataFetcher.HostResolver anyNameIsTheLocalServer = host -> List.of(InetAddress.getByName("127.0.0.1"));
        try {
            int port = https.getAddress().getPort();
            DataFetcher fetcher = new DataFetcher(
                    Optional.of(policy(List.of(), List.of("localhost", "other.test"), true, null)),
                    anyNameIsTheLocalServer,
                    PinnedHttpGet.DIRECT,
                    tls.getSocketFactory());

            assertThat(new String(
                            fetcher.readBytes("data.uri", "https://localhost:" + port + "/corpus.txt"),
                            StandardCharsets.UTF_8))
                    .isEqualTo("tokens");
            assertThat(serverNames).as("SNI names the URI's host").containsExactly("localhost");
            assertThatThrownBy(() -> fetcher.readBytes("data.uri", "https://other.test:" + port + "/corpus.txt"))
                    .as("a certificate for another name is refused even though the address is the same")
                    .isInstanceOf(SpecException.class)
                    .hasMessageContaining("could not be downloaded")
                    .hasMessageContaining("other.test");
        } finally {
            https.stop(0);
        }
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

    /**
     * A fetcher on a fake network: {@link #PUBLIC} leads to the local server, every other address is unreachable;
     * each address dialled is recorded.
     */
    private DataFetcher routedFetcher(
            DataAccessPolicy policy, DataFetcher.HostResolver resolver, List<InetSocketAddress> dialed) {
        PinnedHttpGet.Dialer network = (address, timeout) -> {
            dialed.add(address);
            if (!address.getAddress().getHostAddress().equals(PUBLIC)) {
                throw new ConnectException("no route to " + address + " in this test");
            }
            return PinnedHttpGet.DIRECT.connect(
                    new InetSocketAddress(InetAddress.getByName("127.0.0.1"), address.getPort()), timeout);
        };
        return new DataFetcher(
                Optional.of(policy), resolver, network, (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    /** An https server on 127.0.0.1 with a self-signed certificate for {@code name} (made by the JDK's keytool). */
    private HttpsServer httpsServer(String name) throws Exception {
        Path store = tmp.resolve("server.p12");
        Process keytool = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "keytool")
                                .toString(),
                        "-genkeypair",
                        "-alias",
                        "server",
                        "-keyalg",
                        "EC",
                        "-groupname",
                        "secp256r1",
                        "-dname",
                        "CN=" + name,
                        "-ext",
                        "SAN=dns:" + name,
                        "-validity",
                        "2",
                        "-keystore",
                        store.toString(),
                        "-storetype",
                        "PKCS12",
                        "-storepass",
                        "changeit",
                        "-keypass",
                        "changeit")
                .redirectErrorStream(true)
                .start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor()).as(output).isZero();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            keys.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, "changeit".toCharArray());
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(keys);
        tls = SSLContext.getInstance("TLS");
        tls.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
        SSLContext serverTls = SSLContext.getInstance("TLS");
        serverTls.init(keyManagers.getKeyManagers(), null, null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(serverTls) {
            @Override
            public void configure(HttpsParameters parameters) {
                SSLParameters ssl = serverTls.getDefaultSSLParameters();
                ssl.setSNIMatchers(List.of(new SNIMatcher(StandardConstants.SNI_HOST_NAME) {
                    @Override
                    public boolean matches(SNIServerName serverName) {
                        serverNames.add(((SNIHostName) serverName).getAsciiName());
                        return true;
                    }
                }));
                parameters.setSSLParameters(ssl);
            }
        });
        https.createContext(
                "/corpus.txt", exchange -> respond(exchange, 200, "tokens".getBytes(StandardCharsets.UTF_8)));
        https.start();
        return https;
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
