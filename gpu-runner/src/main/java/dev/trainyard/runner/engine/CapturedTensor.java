package dev.trainyard.runner.engine;

/** A named tensor (or a piece's values, named by its file key) as a checkpoint writes it. */
public record CapturedTensor(String name, long[] shape, TensorValues values) {

    public CapturedTensor {
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        if (elements != values.elements()) {
            throw new IllegalArgumentException(name + ": shape " + java.util.Arrays.toString(shape) + " does not hold "
                    + values.elements() + " floats");
        }
    }

    /** A tensor held in Java memory. */
    public static CapturedTensor of(HostTensor tensor) {
        return new CapturedTensor(tensor.name(), tensor.shape(), TensorValues.of(tensor.data()));
    }
}
