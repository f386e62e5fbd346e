package dev.trainyard.spec;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * What the jobs of one pool may read through {@code data.uri} and {@code model.uri}: files under the pool's data
 * roots, and http(s) URLs of the hosts it allows, never a non-public address unless it allows private networks,
 * up to a size cap per download. {@link #check} applies the rules that a URI's text decides; the runner applies
 * them again on what the file system and DNS answer.
 */
@Schema(name = "DataAccessPolicy")
public record DataAccessPolicy(
        @Schema(
                description = "Absolute folders on the pool's runners under which jobs may read files (file: URIs);"
                        + " links are resolved and must stay inside. Empty: no files.")
        List<String> dataRoots,

        @Schema(
                description = "Host names (or IP literals) jobs may download from over http(s); '*.example.com'"
                        + " allows every subdomain of example.com. Empty: no downloads.")
        List<String> allowedHosts,

        @Schema(
                description = "Whether downloads may reach loopback, link-local, private and other non-public"
                        + " addresses (default false)")
        Boolean allowPrivateNetworks,

        @Schema(description = "Largest download in bytes; a longer one fails the job (default 1073741824, 1 GiB)")
        Long maxDownloadBytes) {

    public static final long DEFAULT_MAX_DOWNLOAD_BYTES = 1L << 30;
    static final long MAX_DOWNLOAD_BYTES_LIMIT = 1L << 40;
    static final int MAX_ENTRIES = 64;
    static final int MAX_ENTRY_LENGTH = 1024;
    private static final Pattern HOST =
            Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]{0,62})(\\.[a-z0-9]([a-z0-9-]{0,62}))*|\\[[0-9a-f:.]+\\]");

    /** Absent keys take their defaults: no roots, no hosts, no private networks, a 1 GiB cap. */
    public DataAccessPolicy {
        dataRoots = dataRoots == null ? List.of() : dataRoots;
        allowedHosts = allowedHosts == null ? List.of() : allowedHosts;
        allowPrivateNetworks = Boolean.TRUE.equals(allowPrivateNetworks);
        maxDownloadBytes = maxDownloadBytes == null ? DEFAULT_MAX_DOWNLOAD_BYTES : maxDownloadBytes;
    }

    /** Nothing may be read: a pool that names no roots and no hosts. */
    public static DataAccessPolicy none() {
        return new DataAccessPolicy(List.of(), List.of(), false, DEFAULT_MAX_DOWNLOAD_BYTES);
    }

    /** Records what is wrong with an admin's policy under {@code prefix} (for example {@code dataAccess}). */
    public void validate(String prefix, Violations v) {
        checkEntries(prefix + ".dataRoots", dataRoots, v, DataAccessPolicy::rootProblem);
        checkEntries(
                prefix + ".allowedHosts",
                allowedHosts,
                v,
                h -> HOST.matcher(hostKey(h)).matches()
                        ? null
                        : "must be a host name, '*.' and a domain, or a bracketed IPv6 literal");
        v.checkRange(prefix + ".maxDownloadBytes", maxDownloadBytes, 1, MAX_DOWNLOAD_BYTES_LIMIT);
    }

    /** Why {@code uri} may not be read, as far as its text tells; empty when only the runner can still refuse. */
    public Optional<DataAccessRefusal> check(String uri) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            return refuse(DataAccessRule.SCHEME, "not a valid URI");
        }
        String scheme = parsed.getScheme() == null ? "file" : parsed.getScheme().toLowerCase(Locale.ROOT);
        return switch (scheme) {
            case "file" -> checkFile(parsed);
            case "http", "https" -> checkHttp(parsed);
            default -> refuse(DataAccessRule.SCHEME, "only file:, http: and https: URIs may be read");
        };
    }

    /** The local path a {@code file:} URI (or a plain absolute path) names, normalized; empty if it names none. */
    public static Optional<Path> filePath(URI uri) {
        if (uri.getScheme() == null) {
            return uri.getPath() != null && uri.getPath().startsWith("/")
                    ? Optional.of(Path.of(uri.getPath()).normalize())
                    : Optional.empty();
        }
        if (uri.isOpaque() || (uri.getAuthority() != null && !uri.getAuthority().isEmpty())) {
            return Optional.empty();
        }
        try {
            return Optional.of(Path.of(uri).normalize());
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return Optional.empty();
        }
    }

    /** Whether {@code path} (normalized) lies under one of the data roots, judged by its text alone. */
    public boolean underDataRoots(Path path) {
        return dataRoots.stream().anyMatch(root -> path.startsWith(Path.of(root).normalize()));
    }

    /** Whether {@code host} is on the allowed list: exactly, or under a {@code *.domain} entry. */
    public boolean allowsHost(String host) {
        String key = hostKey(host);
        return allowedHosts.stream()
                .map(DataAccessPolicy::hostKey)
                .anyMatch(
                        allowed -> allowed.startsWith("*.") ? key.endsWith(allowed.substring(1)) : allowed.equals(key));
    }

    /** A host as the allowed list compares it: lower case, without a trailing dot. */
    public static String hostKey(String host) {
        String lower = host.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    private Optional<DataAccessRefusal> checkFile(URI uri) {
        Optional<Path> path = filePath(uri);
        if (path.isEmpty()) {
            return refuse(
                    DataAccessRule.SCHEME, "a file: URI must name an absolute path on the runner, without a host");
        }
        if (!underDataRoots(path.get())) {
            return refuse(
                    DataAccessRule.OUTSIDE_DATA_ROOTS,
                    path.get() + " is not under the pool's data roots " + dataRoots());
        }
        return Optional.empty();
    }

    private Optional<DataAccessRefusal> checkHttp(URI uri) {
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            return refuse(DataAccessRule.SCHEME, "an http(s) URI must name a host");
        }
        if (!allowsHost(host)) {
            return refuse(
                    DataAccessRule.HOST_NOT_ALLOWED,
                    "host " + host + " is not among the pool's allowed hosts " + allowedHosts());
        }
        Optional<String> range = NetworkRanges.literalNonPublicRange(host);
        if (range.isPresent() && !allowPrivateNetworks) {
            return refuse(DataAccessRule.PRIVATE_ADDRESS, "host " + host + " is a " + range.get() + " address");
        }
        return Optional.empty();
    }

    private static String rootProblem(String root) {
        try {
            Path p = Path.of(root);
            if (!p.isAbsolute()) {
                return "must be an absolute path";
            }
            return p.normalize().toString().equals(p.toString()) || (p + "/").equals(root)
                    ? null
                    : "must be a normalized path (no '.', '..' or doubled '/')";
        } catch (InvalidPathException e) {
            return "is not a valid path";
        }
    }

    private static void checkEntries(
            String field, List<String> entries, Violations v, java.util.function.Function<String, String> problem) {
        if (entries.size() > MAX_ENTRIES) {
            v.add(field, "must have at most " + MAX_ENTRIES + " entries");
            return;
        }
        for (int i = 0; i < entries.size(); i++) {
            String entry = entries.get(i);
            String at = field + "[" + i + "]";
            if (entry == null || entry.isEmpty() || entry.length() > MAX_ENTRY_LENGTH || entry.indexOf('\0') >= 0) {
                v.add(at, "must be 1-" + MAX_ENTRY_LENGTH + " characters without NUL");
                continue;
            }
            String why = problem.apply(entry);
            if (why != null) {
                v.add(at, why);
            }
        }
    }

    private static Optional<DataAccessRefusal> refuse(DataAccessRule rule, String reason) {
        return Optional.of(new DataAccessRefusal(rule, reason));
    }
}
