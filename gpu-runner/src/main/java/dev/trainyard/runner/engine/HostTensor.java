package dev.trainyard.runner.engine;

import java.util.Arrays;

/** A named float32 tensor held in Java memory, as read from or written to a safetensors file. */
public record HostTensor(String name, long[] shape, float[] data) {

    public HostTensor {
        long elements = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        if (elements != data.length) {
            throw new IllegalArgumentException(
                    name + ": shape " + Arrays.toString(shape) + " does not hold " + data.length + " floats");
        }
    }
}
