package dev.trainyard.spec;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which addresses are not public: loopback, link-local (cloud metadata services live there), private, carrier-grade
 * NAT, unspecified, multicast and IPv6 unique-local. A pool's jobs reach them only where the pool allows private
 * networks.
 */
public final class NetworkRanges {
    private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9.]+");

    private NetworkRanges() {}

    /** The kind of non-public range {@code address} lies in, or empty for a public address. */
    public static Optional<String> nonPublicRange(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return Optional.of("loopback");
        }
        if (address.isLinkLocalAddress()) {
            return Optional.of("link-local");
        }
        if (address.isSiteLocalAddress() || isUniqueLocal(address) || isSharedAddressSpace(address)) {
            return Optional.of("private");
        }
        if (address.isAnyLocalAddress() || address.isMulticastAddress() || isReservedIpv4(address)) {
            return Optional.of("reserved");
        }
        return Optional.empty();
    }

    /**
     * The non-public range of a host written as an IP literal, without asking DNS; empty for a name or a public
     * literal (a name's addresses are checked by the runner, which resolves it).
     */
    public static Optional<String> literalNonPublicRange(String host) {
        boolean v6 = host.startsWith("[") && host.endsWith("]");
        if (!v6 && !IPV4_LITERAL.matcher(host).matches()) {
            return Optional.empty();
        }
        try {
            // a literal is parsed, not looked up
            return nonPublicRange(InetAddress.getByName(v6 ? host.substring(1, host.length() - 1) : host));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    private static boolean isUniqueLocal(InetAddress address) {
        return address instanceof Inet6Address && (address.getAddress()[0] & 0xfe) == 0xfc;
    }

    /** 100.64.0.0/10, used by carrier-grade NAT and by some clouds for internal services. */
    private static boolean isSharedAddressSpace(InetAddress address) {
        byte[] b = address.getAddress();
        return address instanceof Inet4Address && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64;
    }

    /** 0.0.0.0/8 and 240.0.0.0/4 (with the broadcast address): never a server's address. */
    private static boolean isReservedIpv4(InetAddress address) {
        int first = address.getAddress()[0] & 0xff;
        return address instanceof Inet4Address && (first == 0 || first >= 240);
    }
}
