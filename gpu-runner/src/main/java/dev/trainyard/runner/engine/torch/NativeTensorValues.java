package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.CapturedPiece;
import dev.trainyard.runner.engine.CapturedTensor;
import dev.trainyard.runner.engine.TensorRegion;
import dev.trainyard.runner.engine.TensorValues;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A float32 copy of a tensor in native CPU memory, kept past the capturing step's scope until the checkpoint writer
 * has written it and {@link #release()}d it: a checkpoint's capture then needs no Java heap of the state's size,
 * only the writer's one chunk buffer.
 */
final class NativeTensorValues implements TensorValues {

    private final Tensor copy;
    private final long elements;
    private boolean released;

    private NativeTensorValues(Tensor copy) {
        this.copy = copy;
        this.elements = copy.numel();
    }

    /**
     * A contiguous float32 CPU copy of {@code tensor} (any device or type, converted as {@link Tensors#toHost}
     * converts), which outlives the current scope.
     */
    static NativeTensorValues copyOf(Tensor tensor) {
        // copy = true: a CPU float32 tensor would otherwise come back as itself, and training would change it
        Tensor copy = tensor.detach()
                .to(new Device("cpu"), ScalarType.Float, false, true, new MemoryFormatOptional())
                .contiguous();
        copy.retainReference(); // the scope that created it lets go; this copy lives until released
        return new NativeTensorValues(copy);
    }

    /** Copies of {@code tensors} (by name, in order) as a checkpoint's tensors, their shapes as the originals'. */
    static List<CapturedTensor> capture(Map<String, Tensor> tensors) {
        List<CapturedTensor> captured = new ArrayList<>();
        tensors.forEach((name, t) -> captured.add(new CapturedTensor(name, Tensors.shape(t), copyOf(t))));
        return captured;
    }

    /**
     * Writer {@code writer}'s share of each of {@code tensors}, which every one of {@code writers} processes holds
     * alike: the same equal run of flat elements as {@link dev.trainyard.runner.engine.TensorPiece#share} cuts, cut
     * into the same regions, but only that run copied, and into native memory.
     */
    static List<CapturedPiece> share(Map<String, Tensor> tensors, int writer, int writers) {
        List<CapturedPiece> pieces = new ArrayList<>();
        tensors.forEach((name, t) -> {
            long[] shape = Tensors.shape(t);
            long n = t.numel();
            long from = n * writer / writers;
            long to = n * (writer + 1) / writers;
            Tensor flat = t.detach().reshape(-1);
            long at = from;
            for (TensorRegion region : TensorRegion.ofFlatRange(shape, from, to - from)) {
                long length = region.elements();
                pieces.add(new CapturedPiece(name, shape, region, copyOf(flat.narrow(0, at, length))));
                at += length;
            }
        });
        return pieces;
    }

    @Override
    public long elements() {
        return elements;
    }

    @Override
    public void writeTo(OutputStream out, ByteBuffer chunk) throws IOException {
        if (released) {
            throw new IllegalStateException("tensor values written after their release");
        }
        FloatPointer values = copy.data_ptr_float();
        int chunkFloats = chunk.capacity() / 4;
        for (long from = 0; from < elements; from += chunkFloats) {
            int count = (int) Math.min(chunkFloats, elements - from);
            chunk.clear();
            // a view of native memory (native byte order) put into the little-endian chunk: no Java copy of the whole
            chunk.asFloatBuffer().put(values.position(from).limit(from + count).asBuffer());
            out.write(chunk.array(), 0, count * 4);
        }
    }

    @Override
    public void release() {
        if (!released) {
            released = true;
            copy.releaseReference();
        }
    }
}
