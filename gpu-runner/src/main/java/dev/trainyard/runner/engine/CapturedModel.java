package dev.trainyard.runner.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * A model's state copied between steps for a checkpoint (parameters, buffers, AdamW moments by global name), its
 * values held in Java or native memory until written; {@link #release()} frees the native ones.
 */
public record CapturedModel(
        List<CapturedTensor> parameters,
        List<CapturedTensor> buffers,
        List<CapturedTensor> firstMoments,
        List<CapturedTensor> secondMoments) {

    /** A state already in Java memory. */
    public static CapturedModel of(ModelState state) {
        return new CapturedModel(
                held(state.parameters()),
                held(state.buffers()),
                held(state.firstMoments()),
                held(state.secondMoments()));
    }

    /** Frees every tensor's values (after the write, or when it will not happen). */
    public void release() {
        for (List<CapturedTensor> kind : List.of(parameters, buffers, firstMoments, secondMoments)) {
            kind.forEach(t -> t.values().release());
        }
    }

    private static List<CapturedTensor> held(List<HostTensor> tensors) {
        List<CapturedTensor> captured = new ArrayList<>();
        tensors.forEach(t -> captured.add(CapturedTensor.of(t)));
        return captured;
    }
}
