package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.HostTensor;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Conversions between Java arrays and tensors, and the no-grad bracket for in-place parameter writes. */
final class Tensors {

    private Tensors() {}

    static Tensor longs(long[] data, long... shape) {
        return Tensor.create(data, shape);
    }

    static Tensor floats(float[] data, long... shape) {
        return Tensor.create(data, shape);
    }

    static Tensor on(Tensor tensor, Device device) {
        return device.is_cpu() ? tensor : tensor.to(device, tensor.scalar_type());
    }

    static long[] shape(Tensor tensor) {
        long[] shape = new long[(int) tensor.dim()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = tensor.size(i);
        }
        return shape;
    }

    /**
     * Copies a tensor (any device) into Java memory as float32. Parameters and moments are float32 already; a
     * buffer of another type (an int64 counter) is converted, exactly for integers up to 2^24.
     */
    static HostTensor toHost(String name, Tensor tensor) {
        Tensor cpu = tensor.is_cuda() || tensor.scalar_type() != ScalarType.Float
                ? tensor.to(new Device("cpu"), ScalarType.Float)
                : tensor;
        Tensor dense = cpu.contiguous();
        float[] data = new float[(int) dense.numel()];
        FloatPointer pointer = dense.data_ptr_float();
        pointer.get(data);
        return new HostTensor(name, shape(tensor), data);
    }

    /** Overwrites {@code target} with host data of the same shape (converted to its type), outside autograd. */
    static void copyInto(Tensor target, HostTensor source) {
        if (!Arrays.equals(shape(target), source.shape())) {
            throw new IllegalArgumentException(source.name() + ": checkpoint shape " + Arrays.toString(source.shape())
                    + " does not match model shape " + Arrays.toString(shape(target)));
        }
        withoutGrad(() -> target.copy_(floats(source.data(), source.shape())));
    }

    /** Runs {@code action} with autograd recording off on this thread (grad mode is thread-local). */
    static void withoutGrad(Runnable action) {
        boolean previous = GradMode.is_enabled();
        GradMode.set_enabled(false);
        try {
            action.run();
        } finally {
            GradMode.set_enabled(previous);
        }
    }
}
