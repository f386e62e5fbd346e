package dev.trainyard.runner.engine;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * A tensor's float32 values as a checkpoint writes them, held wherever the engine copied them: in a Java array, or
 * in native memory the engine owns until {@link #release()} (so a checkpoint of any size needs no Java heap of its
 * size).
 */
public interface TensorValues {

    /** How many floats there are. */
    long elements();

    /**
     * Writes the values little-endian to {@code out}, through {@code chunk} (a little-endian buffer, a multiple of 4
     * bytes long) so that no copy of the whole is made.
     */
    void writeTo(OutputStream out, ByteBuffer chunk) throws IOException;

    /** Frees what holds the values; they are not written after this. Nothing to do for a Java array. */
    default void release() {}

    /** Values in a Java array. */
    static TensorValues of(float[] data) {
        return new TensorValues() {
            @Override
            public long elements() {
                return data.length;
            }

            @Override
            public void writeTo(OutputStream out, ByteBuffer chunk) throws IOException {
                int chunkFloats = chunk.capacity() / 4;
                for (int from = 0; from < data.length; from += chunkFloats) {
                    int count = Math.min(chunkFloats, data.length - from);
                    chunk.clear();
                    chunk.asFloatBuffer().put(data, from, count);
                    out.write(chunk.array(), 0, count * 4);
                }
            }
        };
    }
}
