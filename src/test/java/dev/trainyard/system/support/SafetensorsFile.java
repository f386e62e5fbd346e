package dev.trainyard.system.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/** Reads a safetensors file (8-byte little-endian header length, JSON header, raw data) into named byte blocks. */
public final class SafetensorsFile {
    private final Map<String, byte[]> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Map<String, byte[]> tensors, Map<String, String> metadata) {
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile parse(byte[] bytes) throws IOException {
        long headerLength =
                ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
        int dataStart = 8 + (int) headerLength;
        Map<String, byte[]> tensors = new TreeMap<>();
        Map<String, String> metadata = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue()
                        .fields()
                        .forEachRemaining(
                                m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode offsets = e.getValue().get("data_offsets");
            int from = dataStart + offsets.get(0).asInt();
            int to = dataStart + offsets.get(1).asInt();
            tensors.put(e.getKey(), Arrays.copyOfRange(bytes, from, to));
        }
        return new SafetensorsFile(tensors, metadata);
    }

    public Map<String, byte[]> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }
}
