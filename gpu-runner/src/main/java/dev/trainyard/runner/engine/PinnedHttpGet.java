package dev.trainyard.runner.engine;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 GET sent over a connection to an address the caller chose (the one its policy checked), never to
 * whatever the host name resolves to a moment later: {@code java.net.http.HttpClient} resolves names itself, so a
 * DNS server answering a public address to the check and a loopback one to the connection would get past the
 * check. For https the TLS layer still sends the URI's host name (SNI) and verifies the certificate against it.
 */
final class PinnedHttpGet implements Closeable {
    private static final int MAX_LINE = 16 * 1024;
    private static final int MAX_HEADERS = 200;

    /** Opens a TCP connection to a checked address; tests route the addresses of their choosing. */
    @FunctionalInterface
    interface Dialer {
        Socket connect(InetSocketAddress address, int timeoutMillis) throws IOException;
    }

    /** The default dialer: a plain socket to exactly {@code address}. */
    static final Dialer DIRECT = (address, timeoutMillis) -> {
        Socket socket = new Socket();
        try {
            socket.connect(address, timeoutMillis);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    };

    private final Socket socket;
    private final int status;
    private final List<String[]> headers;
    private final InputStream body;

    private PinnedHttpGet(Socket socket, int status, List<String[]> headers, InputStream body) {
        this.socket = socket;
        this.status = status;
        this.headers = headers;
        this.body = body;
    }

    /**
     * Sends {@code GET uri} to {@code address} (the first that answers of those given, all of them checked) and
     * reads the status and headers; the body is read from {@link #body()}.
     */
    static PinnedHttpGet send(
            URI uri, List<InetAddress> addresses, Dialer dialer, SSLSocketFactory tls, int timeoutMillis)
            throws IOException {
        boolean https = "https".equalsIgnoreCase(uri.getScheme());
        int port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
        String host = bareHost(uri.getHost());
        Socket socket = connectFirst(addresses, port, dialer, timeoutMillis);
        try {
            socket.setSoTimeout(timeoutMillis);
            if (https) {
                socket = startTls(socket, tls, host, port);
            }
            OutputStream out = socket.getOutputStream();
            out.write(request(uri).getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            int status = statusCode(readLine(in));
            List<String[]> headers = readHeaders(in);
            return new PinnedHttpGet(socket, status, headers, bodyStream(in, headers));
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    int status() {
        return status;
    }

    /** The first value of header {@code name} (case-insensitive). */
    Optional<String> header(String name) {
        return headers.stream()
                .filter(h -> h[0].equalsIgnoreCase(name))
                .map(h -> h[1])
                .findFirst();
    }

    /** The declared body length, when the response declares one and is not chunked. */
    OptionalLong contentLength() throws IOException {
        if (chunked(headers)) {
            return OptionalLong.empty();
        }
        Optional<String> value = header("Content-Length");
        return value.isEmpty() ? OptionalLong.empty() : OptionalLong.of(parseLength(value.get()));
    }

    /** The body, de-chunked and ending where the response says it ends. */
    InputStream body() {
        return body;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static Socket connectFirst(List<InetAddress> addresses, int port, Dialer dialer, int timeoutMillis)
            throws IOException {
        IOException last = new IOException("no address to connect to");
        for (InetAddress address : addresses) {
            try {
                return dialer.connect(new InetSocketAddress(address, port), timeoutMillis);
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    /** TLS over the pinned connection, with SNI and certificate checks against the URI's host name. */
    private static Socket startTls(Socket plain, SSLSocketFactory tls, String host, int port) throws IOException {
        SSLSocket ssl = (SSLSocket) tls.createSocket(plain, host, port, true);
        SSLParameters parameters = ssl.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        if (!isIpLiteral(host)) {
            parameters.setServerNames(List.of(new SNIHostName(host)));
        }
        ssl.setSSLParameters(parameters);
        ssl.startHandshake();
        return ssl;
    }

    private static String request(URI uri) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        String hostHeader = uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
        return "GET " + target + " HTTP/1.1\r\n"
                + "Host: " + hostHeader + "\r\n"
                + "User-Agent: trainyard-runner\r\n"
                + "Accept: */*\r\n"
                + "Accept-Encoding: identity\r\n"
                + "Connection: close\r\n\r\n";
    }

    private static int statusCode(String statusLine) throws IOException {
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP/1.x response: " + abbreviate(statusLine));
        }
        try {
            return Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("bad status line: " + abbreviate(statusLine), e);
        }
    }

    private static List<String[]> readHeaders(InputStream in) throws IOException {
        List<String[]> headers = new java.util.ArrayList<>();
        for (String line; !(line = readLine(in)).isEmpty(); ) {
            int colon = line.indexOf(':');
            if (colon <= 0 || headers.size() >= MAX_HEADERS) {
                throw new IOException("bad or too many response headers");
            }
            headers.add(new String[] {
                line.substring(0, colon).trim(), line.substring(colon + 1).trim()
            });
        }
        return headers;
    }

    private static InputStream bodyStream(InputStream in, List<String[]> headers) throws IOException {
        if (chunked(headers)) {
            return new ChunkedBody(in);
        }
        Optional<String> length = headers.stream()
                .filter(h -> h[0].equalsIgnoreCase("Content-Length"))
                .map(h -> h[1])
                .findFirst();
        // without a length the body ends when the server closes the connection (we asked for Connection: close)
        return length.isEmpty() ? in : new LengthBody(in, parseLength(length.get()));
    }

    private static boolean chunked(List<String[]> headers) {
        return headers.stream()
                .anyMatch(h -> h[0].equalsIgnoreCase("Transfer-Encoding")
                        && h[1].toLowerCase(Locale.ROOT).contains("chunked"));
    }

    private static long parseLength(String value) throws IOException {
        try {
            long length = Long.parseLong(value.trim());
            if (length < 0) {
                throw new IOException("negative Content-Length " + value);
            }
            return length;
        } catch (NumberFormatException e) {
            throw new IOException("bad Content-Length " + abbreviate(value), e);
        }
    }

    /** One CRLF- (or LF-) terminated line, at most {@link #MAX_LINE} bytes. */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new EOFException("connection closed in the middle of the response head");
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("response line longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
        String text = line.toString(StandardCharsets.ISO_8859_1);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
    }

    private static String bareHost(String host) {
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }

    private static boolean isIpLiteral(String host) {
        return host.contains(":") || host.matches("[0-9.]+");
    }

    private static String abbreviate(String text) {
        return text.length() > 80 ? text.substring(0, 80) + "..." : text;
    }

    /** A body of exactly the declared length: a connection closed before its end is an error, not a short file. */
    /** A body read in blocks; a single byte is a block of one. */
    private abstract static class BodyStream extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }
    }

    private static final class LengthBody extends BodyStream {
        private final InputStream in;
        private long left;

        LengthBody(InputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (left == 0) {
                return -1;
            }
            int n = in.read(buffer, offset, (int) Math.min(length, left));
            if (n < 0) {
                throw new EOFException("connection closed " + left + " bytes before the declared end of the body");
            }
            left -= n;
            return n;
        }
    }

    /** A chunked body (RFC 9112 section 7.1), its chunk sizes and trailers removed. */
    private static final class ChunkedBody extends BodyStream {
        private final InputStream in;
        private long chunkLeft;
        private boolean done;

        ChunkedBody(InputStream in) {
            this.in = in;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (done || (chunkLeft == 0 && !nextChunk())) {
                return -1;
            }
            int n = in.read(buffer, offset, (int) Math.min(length, chunkLeft));
            if (n < 0) {
                throw new EOFException("connection closed in the middle of a chunk");
            }
            chunkLeft -= n;
            if (chunkLeft == 0 && !readLine(in).isEmpty()) {
                throw new IOException("a chunk does not end where its size says");
            }
            return n;
        }

        /** Reads the next chunk's size; false (after the trailers) at the last chunk. */
        private boolean nextChunk() throws IOException {
            String sizeLine = readLine(in);
            int extension = sizeLine.indexOf(';');
            String hex = (extension >= 0 ? sizeLine.substring(0, extension) : sizeLine).trim();
            try {
                chunkLeft = Long.parseLong(hex, 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size " + abbreviate(sizeLine), e);
            }
            if (chunkLeft < 0) {
                throw new IOException("bad chunk size " + abbreviate(sizeLine));
            }
            if (chunkLeft == 0) {
                while (!readLine(in).isEmpty()) {
                    // trailers carry nothing the fetcher needs
                }
                done = true;
                return false;
            }
            return true;
        }
    }
}
