package dev.trainyard.runner.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors layout: an 8-byte little-endian header length, a JSON header naming
 * each tensor's dtype, shape and byte range, then the raw little-endian data. Only F32 is used here.
 */
public final class SafetensorsFormat {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String METADATA = "__metadata__";
    private static final int CHUNK_FLOATS = 1 << 20;

    private SafetensorsFormat() {}

    /** Where a file's bytes come from: positioned reads of a file of known size. */
    public interface ByteSource {

        long size() throws IOException;

        /** Fills {@code into} (from its position to its limit) with the bytes from {@code position} on. */
        void readFully(ByteBuffer into, long position) throws IOException;

        /** An open channel's bytes, read as they are. */
        static ByteSource of(FileChannel channel) {
            return new ByteSource() {
                @Override
                public long size() throws IOException {
                    return channel.size();
                }

                @Override
                public void readFully(ByteBuffer into, long position) throws IOException {
                    SafetensorsFormat.readFully(channel, into, position);
                }
            };
        }
    }

    /** The tensors and string metadata of one file. */
    public record Contents(List<HostTensor> tensors, Map<String, String> metadata) {}

    /** Writes {@code tensors} in order, with {@code metadata} in the header. */
    public static void write(OutputStream out, List<HostTensor> tensors, Map<String, String> metadata)
            throws IOException {
        List<CapturedTensor> captured = new ArrayList<>();
        tensors.forEach(t -> captured.add(CapturedTensor.of(t)));
        writeCaptured(out, captured, metadata);
    }

    /**
     * Writes {@code tensors} in order, with {@code metadata} in the header, each straight from where its values are
     * held (see {@link TensorValues}) through one chunk buffer.
     */
    public static void writeCaptured(OutputStream out, List<CapturedTensor> tensors, Map<String, String> metadata)
            throws IOException {
        byte[] header = header(tensors, metadata);
        ByteBuffer length =
                ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        out.write(length.array());
        out.write(header);
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (CapturedTensor tensor : tensors) {
            tensor.values().writeTo(out, chunk);
        }
    }

    /** One tensor of a file, as its header describes it: where its F32 values lie in the file. */
    public record Entry(String name, long[] shape, long position, long bytes) {

        /** How many floats the tensor holds. */
        public long elements() {
            return bytes / 4;
        }
    }

    /** A file's header: its tensors in order, without their values, and its string metadata. */
    public record Header(List<Entry> entries, Map<String, String> metadata) {}

    /** Reads a whole file; refuses dtypes other than F32 and byte ranges outside the file. */
    public static Contents read(Path file) throws IOException {
        try (FileChannel open = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteSource channel = ByteSource.of(open);
            Header header = readHeader(channel, file);
            List<HostTensor> tensors = new ArrayList<>();
            ByteBuffer scratch = scratch();
            for (Entry e : header.entries()) {
                float[] data = new float[(int) e.elements()];
                readFloats(channel, e.position(), data, 0, data.length, scratch);
                tensors.add(new HostTensor(e.name(), e.shape(), data));
            }
            return new Contents(tensors, header.metadata());
        }
    }

    /**
     * Reads only the header of an open file (its length, JSON and each tensor's byte range), so that a reader can
     * then read the parts of tensors it needs; refuses dtypes other than F32 and byte ranges outside the file.
     */
    public static Header readHeader(ByteSource channel, Path file) throws IOException {
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        channel.readFully(length, 0);
        long headerLength = length.flip().getLong();
        if (headerLength <= 0 || headerLength > Math.min(channel.size() - 8, 100_000_000L)) {
            throw new IOException(file + ": not a safetensors file (header length " + headerLength + ")");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        channel.readFully(headerBytes, 8);
        JsonNode header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
        long dataStart = 8 + headerLength;
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA)) {
                field.getValue()
                        .fields()
                        .forEachRemaining(
                                m -> metadata.put(m.getKey(), m.getValue().asText()));
            } else {
                entries.add(entry(channel, field.getKey(), field.getValue(), dataStart));
            }
        }
        return new Header(entries, metadata);
    }

    /**
     * Reads {@code count} little-endian floats at byte {@code position} of the file into {@code into[at...]},
     * through {@code scratch} (little-endian, a multiple of 4 bytes long) so that many reads allocate nothing.
     */
    public static void readFloats(
            ByteSource channel, long position, float[] into, int at, int count, ByteBuffer scratch) throws IOException {
        int chunkFloats = scratch.capacity() / 4;
        for (int done = 0; done < count; ) {
            int n = Math.min(chunkFloats, count - done);
            scratch.clear().limit(n * 4);
            channel.readFully(scratch, position + 4L * done);
            scratch.flip().asFloatBuffer().get(into, at + done, n);
            done += n;
        }
    }

    /** A buffer for {@link #readFloats}. */
    public static ByteBuffer scratch() {
        return ByteBuffer.allocate(CHUNK_FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] header(List<CapturedTensor> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode meta = root.putObject(METADATA);
        metadata.forEach(meta::put);
        long offset = 0;
        for (CapturedTensor tensor : tensors) {
            ObjectNode node = root.putObject(tensor.name());
            node.put("dtype", "F32");
            var shape = node.putArray("shape");
            for (long dim : tensor.shape()) {
                shape.add(dim);
            }
            long end = offset + 4L * tensor.values().elements();
            node.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        // Pad with spaces so the data starts 8-byte aligned, as other readers expect.
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = new byte[padded];
        java.util.Arrays.fill(header, (byte) ' ');
        System.arraycopy(json, 0, header, 0, json.length);
        return header;
    }

    private static Entry entry(ByteSource channel, String name, JsonNode node, long dataStart) throws IOException {
        if (!"F32".equals(node.path("dtype").asText())) {
            throw new IOException(name + ": dtype " + node.path("dtype").asText() + " is not supported (F32 only)");
        }
        long[] shape = new long[node.path("shape").size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = node.path("shape").get(i).asLong();
            elements *= shape[i];
        }
        long begin = node.path("data_offsets").get(0).asLong();
        long end = node.path("data_offsets").get(1).asLong();
        if (begin < 0 || end < begin || dataStart + end > channel.size() || end - begin != 4 * elements) {
            throw new IOException(name + ": byte range [" + begin + ", " + end + ") is outside the file"
                    + " or does not hold its shape " + java.util.Arrays.toString(shape));
        }
        return new Entry(name, shape, dataStart + begin, end - begin);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position + buffer.position());
            if (read < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }
}
