package dev.trainyard.runner.engine;

import dev.trainyard.spec.DataAccessPolicy;
import dev.trainyard.spec.DataAccessRefusal;
import dev.trainyard.spec.DataAccessRule;
import dev.trainyard.spec.NetworkRanges;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLSocketFactory;

/**
 * Reads what a job's {@code data.uri} and {@code model.uri} name, under its pool's {@link DataAccessPolicy}: the
 * rules the URI's text decides, then what only this machine can tell: where a file's links really lead, which
 * addresses a host name resolves to, where each redirect goes, and how long a download really is. Offline
 * ({@code gpu-runner train}) it reads whatever its user names, with no policy.
 */
public final class DataFetcher {
    static final int MAX_REDIRECTS = 5;
    /** How long one read (and one connect) may wait. */
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    /** Resolves a host name to its addresses; tests answer with addresses of their choosing. */
    @FunctionalInterface
    public interface HostResolver {
        List<InetAddress> resolve(String host) throws UnknownHostException;
    }

    private final Optional<DataAccessPolicy> policy;
    private final HostResolver resolver;
    private final PinnedHttpGet.Dialer dialer;
    private final SSLSocketFactory tls;

    DataFetcher(
            Optional<DataAccessPolicy> policy,
            HostResolver resolver,
            PinnedHttpGet.Dialer dialer,
            SSLSocketFactory tls) {
        this.policy = policy;
        this.resolver = resolver;
        this.dialer = dialer;
        this.tls = tls;
    }

    DataFetcher(Optional<DataAccessPolicy> policy, HostResolver resolver) {
        this(policy, resolver, PinnedHttpGet.DIRECT, (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    /** A fetcher with no policy: for a user training offline on their own machine. */
    public static DataFetcher unrestricted() {
        return new DataFetcher(Optional.empty(), host -> List.of(InetAddress.getAllByName(host)));
    }

    /** A fetcher that enforces {@code policy}, resolving host names through DNS. */
    public static DataFetcher under(DataAccessPolicy policy) {
        return new DataFetcher(Optional.of(policy), host -> List.of(InetAddress.getAllByName(host)));
    }

    /** A fetcher that enforces {@code policy} with host names resolved by {@code resolver}. */
    public static DataFetcher under(DataAccessPolicy policy, HostResolver resolver) {
        return new DataFetcher(Optional.of(policy), resolver);
    }

    /** The whole content {@code uri} names ({@code field} is the spec key, for messages). */
    public byte[] readBytes(String field, String uri) {
        if (isRemote(uri)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            download(field, uri, out);
            return out.toByteArray();
        }
        Path file = localFile(field, uri);
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new SpecException(field + " " + uri + " could not be read: " + e.getMessage(), e);
        }
    }

    /** Whether {@code uri} is fetched over the network. */
    public static boolean isRemote(String uri) {
        return uri.startsWith("http://") || uri.startsWith("https://");
    }

    /**
     * The regular file a local {@code uri} (a {@code file:} URI, or a plain path offline) names, with every link
     * resolved; under a policy it must lie under one of the data roots as they really are on this machine.
     */
    public Path localFile(String field, String uri) {
        policy.flatMap(p -> p.check(uri)).ifPresent(refusal -> refuse(field, uri, refusal));
        Path named = namedPath(field, uri);
        Path real;
        try {
            real = named.toRealPath();
        } catch (NoSuchFileException e) {
            throw new SpecException(field + " " + uri + ": no such file (" + named + ")", e);
        } catch (IOException e) {
            throw new SpecException(field + " " + uri + " could not be opened: " + e.getMessage(), e);
        }
        if (policy.isPresent() && !underRealRoots(real, policy.get())) {
            refuse(
                    field,
                    uri,
                    new DataAccessRefusal(
                            DataAccessRule.OUTSIDE_DATA_ROOTS,
                            named + " leads to " + real + " through a link, outside the pool's data roots "
                                    + policy.get().dataRoots()));
        }
        if (!Files.isRegularFile(real)) {
            throw new SpecException(field + " " + uri + ": no such file (" + named + " is not a regular file)");
        }
        return real;
    }

    /**
     * Downloads {@code uri} into {@code out}, following redirects one hop at a time and checking every hop like
     * the first; each hop connects to exactly the addresses its check saw, so a second DNS answer cannot send the
     * connection elsewhere. Stops at the policy's size cap.
     */
    public void download(String field, String uri, OutputStream out) {
        long cap = policy.map(DataAccessPolicy::maxDownloadBytes).orElse(Long.MAX_VALUE);
        URI current = parse(field, uri);
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            List<InetAddress> checked = checkHop(field, uri, current);
            try (PinnedHttpGet response = send(field, uri, current, checked)) {
                int status = response.status();
                Optional<String> location = response.header("Location");
                if (status >= 300 && status < 400 && location.isPresent()) {
                    current = redirectTarget(field, uri, current, location.get());
                    continue;
                }
                if (status != 200) {
                    throw new SpecException(
                            field + " " + uri + " could not be downloaded: HTTP " + status + " from " + current);
                }
                long declared = response.contentLength().orElse(-1);
                if (declared > cap) {
                    refuse(field, uri, sizeCap(cap, declared + " bytes declared by " + current));
                }
                copyCapped(response.body(), out, cap, field, uri);
                return;
            } catch (IOException e) {
                throw new SpecException(field + " " + uri + " could not be downloaded: " + e.getMessage(), e);
            }
        }
        refuse(
                field,
                uri,
                new DataAccessRefusal(
                        DataAccessRule.TOO_MANY_REDIRECTS,
                        "more than " + MAX_REDIRECTS + " redirects (last: " + current + ")"));
    }

    /**
     * One hop's URI: the policy's rules on its text, then the addresses its host resolves to, which are returned:
     * the connection goes to these and no others.
     */
    private List<InetAddress> checkHop(String field, String uri, URI hop) {
        String via = hop.toString().equals(uri) ? "" : " (redirected to " + hop + ")";
        if (!isRemote(hop.toString())) {
            refuse(
                    field,
                    uri,
                    new DataAccessRefusal(DataAccessRule.SCHEME, "a redirect may lead only to http(s), not to " + hop));
        }
        policy.flatMap(p -> p.check(hop.toString())).ifPresent(r -> refuse(field, uri, withVia(r, via)));
        if (hop.getHost() == null) {
            throw new SpecException(field + " " + uri + " could not be downloaded: no host in " + hop);
        }
        List<InetAddress> addresses = addresses(field, uri, hop.getHost());
        if (policy.isEmpty() || policy.get().allowPrivateNetworks()) {
            return addresses;
        }
        for (InetAddress address : addresses) {
            Optional<String> range = NetworkRanges.nonPublicRange(address);
            if (range.isPresent()) {
                refuse(
                        field,
                        uri,
                        new DataAccessRefusal(
                                DataAccessRule.PRIVATE_ADDRESS,
                                "host " + hop.getHost() + " resolves to " + address.getHostAddress() + ", a "
                                        + range.get() + " address" + via));
            }
        }
        return addresses;
    }

    private List<InetAddress> addresses(String field, String uri, String host) {
        String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        try {
            List<InetAddress> addresses = List.copyOf(resolver.resolve(bare));
            if (addresses.isEmpty()) {
                throw new UnknownHostException(bare);
            }
            return addresses;
        } catch (UnknownHostException e) {
            throw new SpecException(field + " " + uri + " could not be downloaded: unknown host " + host, e);
        }
    }

    private PinnedHttpGet send(String field, String uri, URI hop, List<InetAddress> checked) {
        try {
            return PinnedHttpGet.send(hop, checked, dialer, tls, (int) TIMEOUT.toMillis());
        } catch (IOException e) {
            throw new SpecException(field + " " + uri + " could not be downloaded from " + hop + ": " + e, e);
        }
    }

    private static URI redirectTarget(String field, String uri, URI from, String location) {
        try {
            return from.resolve(new URI(location));
        } catch (URISyntaxException e) {
            throw new SpecException(
                    field + " " + uri + " could not be downloaded: " + from + " redirects to an invalid URI", e);
        }
    }

    private static void copyCapped(InputStream in, OutputStream out, long cap, String field, String uri)
            throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            total += n;
            if (total > cap) {
                refuse(field, uri, sizeCap(cap, "more than that arrived"));
            }
            out.write(buffer, 0, n);
        }
    }

    private static DataAccessRefusal sizeCap(long cap, String what) {
        return new DataAccessRefusal(
                DataAccessRule.SIZE_CAP, "the pool's download cap is " + cap + " bytes and " + what);
    }

    private static DataAccessRefusal withVia(DataAccessRefusal refusal, String via) {
        return via.isEmpty() ? refusal : new DataAccessRefusal(refusal.rule(), refusal.reason() + via);
    }

    /** Whether {@code real} lies under one of the roots as they really are here (roots missing here hold nothing). */
    private static boolean underRealRoots(Path real, DataAccessPolicy policy) {
        List<Path> roots = new ArrayList<>();
        for (String root : policy.dataRoots()) {
            try {
                roots.add(Path.of(root).toRealPath());
            } catch (IOException e) {
                // a root that does not exist on this runner admits nothing
            }
        }
        return roots.stream().anyMatch(real::startsWith);
    }

    private static Path namedPath(String field, String uri) {
        if (!uri.startsWith("file:")) {
            return Path.of(uri);
        }
        try {
            return Path.of(new URI(uri));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new SpecException(field + " " + uri + " is not a valid file: URI (" + e.getMessage() + ")", e);
        }
    }

    private static URI parse(String field, String uri) {
        try {
            return new URI(uri);
        } catch (URISyntaxException e) {
            throw new SpecException(field + " " + uri + " is not a valid URI", e);
        }
    }

    private static void refuse(String field, String uri, DataAccessRefusal refusal) {
        throw new SpecException(refusal.describe(field, uri));
    }
}
