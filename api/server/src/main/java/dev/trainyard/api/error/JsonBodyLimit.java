package dev.trainyard.api.error;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Refuses JSON bodies over 1 MiB before they are read. The HTTP layer's own limit is high because checkpoint
 * uploads stream through it; no JSON request of this API comes near a megabyte.
 */
public class JsonBodyLimit {
    static final long MAX_JSON_BYTES = 1 << 20;

    @ServerRequestFilter(preMatching = true)
    public Response limit(ContainerRequestContext request) {
        MediaType type = request.getMediaType();
        if (type != null && MediaType.APPLICATION_OCTET_STREAM_TYPE.isCompatible(type)) {
            return null;
        }
        String length = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        if (length == null) {
            // a chunked body has no declared length: count its bytes as they are read instead
            request.setEntityStream(new LimitedStream(request.getEntityStream(), MAX_JSON_BYTES));
            return null;
        }
        long bytes;
        try {
            bytes = Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return null;
        }
        if (bytes <= MAX_JSON_BYTES) {
            return null;
        }
        Problem problem = Problem.of(
                ProblemType.PAYLOAD_TOO_LARGE,
                "JSON bodies are limited to 1 MiB; this one has " + bytes + " bytes",
                request.getUriInfo().getPath(),
                List.of());
        return Response.status(413).type(Problem.MEDIA_TYPE).entity(problem).build();
    }

    /** Passes bytes through until the limit, then fails the read. */
    static final class LimitedStream extends java.io.FilterInputStream {
        private final long limit;
        private long read;

        LimitedStream(java.io.InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws java.io.IOException {
            int b = super.read();
            count(b < 0 ? 0 : 1);
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws java.io.IOException {
            int n = super.read(buffer, offset, length);
            count(Math.max(n, 0));
            return n;
        }

        private void count(int n) throws BodyTooLargeException {
            read += n;
            if (read > limit) {
                throw new BodyTooLargeException(limit);
            }
        }
    }
}
