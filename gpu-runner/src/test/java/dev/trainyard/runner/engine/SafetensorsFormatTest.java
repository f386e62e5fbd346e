package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors layout: header length, JSON header with offsets, little-endian float32 data. */
class SafetensorsFormatTest {

    @TempDir
    Path tmp;

    @Test
    void writesTheStandardLayoutAndReadsItBack() throws Exception {
        List<HostTensor> tensors = List.of(
                new HostTensor("a", new long[] {2}, new float[] {1.5f, -2f}),
                new HostTensor("b.weight", new long[] {1, 1}, new float[] {3f}));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafetensorsFormat.write(out, tensors, Map.of("format", "pt"));
        byte[] bytes = out.toByteArray();

        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buffer.getLong();
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertThat(headerLength % 8).isZero();
        assertThat(header).contains("\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}");
        assertThat(header).contains("\"b.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}");
        buffer.position((int) (8 + headerLength));
        assertThat(buffer.getFloat()).isEqualTo(1.5f);

        Path file = tmp.resolve("t.safetensors");
        Files.write(file, bytes);
        SafetensorsFormat.Contents contents = SafetensorsFormat.read(file);
        assertThat(contents.metadata()).containsEntry("format", "pt");
        assertThat(contents.tensors()).extracting(HostTensor::name).containsExactly("a", "b.weight");
        assertThat(contents.tensors().get(0).data()).containsExactly(1.5f, -2f);
    }
}
