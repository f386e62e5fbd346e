package dev.trainyard.runner.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The part of a model's state one process owns, as pieces of the global tensors (by global name, unprefixed):
 * what its shard of a sharded checkpoint holds. Together, the shards of all processes cover every tensor once.
 */
public record ModelShard(
        List<TensorPiece> parameters,
        List<TensorPiece> buffers,
        List<TensorPiece> firstMoments,
        List<TensorPiece> secondMoments) {

    /**
     * Writer {@code writer}'s share of a whole state that all {@code writers} processes hold alike (see {@link
     * TensorPiece#share}); buffers, small, are written by writer 0 alone.
     */
    public static ModelShard share(ModelState whole, int writer, int writers) {
        return new ModelShard(
                shares(whole.parameters(), writer, writers),
                writer == 0 ? shares(whole.buffers(), 0, 1) : List.of(),
                shares(whole.firstMoments(), writer, writers),
                shares(whole.secondMoments(), writer, writers));
    }

    private static List<TensorPiece> shares(List<HostTensor> tensors, int writer, int writers) {
        List<TensorPiece> pieces = new ArrayList<>();
        tensors.forEach(t -> pieces.addAll(TensorPiece.share(t, writer, writers)));
        return pieces;
    }

    /** Every piece, its name prefixed with its kind as in a checkpoint file ({@code param/}, {@code adamw...}). */
    List<TensorPiece> labelled() {
        List<TensorPiece> all = new ArrayList<>();
        parameters.forEach(p -> all.add(renamed(CheckpointState.PARAM, p)));
        buffers.forEach(p -> all.add(renamed(CheckpointState.BUFFER, p)));
        firstMoments.forEach(p -> all.add(renamed(CheckpointState.FIRST_MOMENT, p)));
        secondMoments.forEach(p -> all.add(renamed(CheckpointState.SECOND_MOMENT, p)));
        return all;
    }

    private static TensorPiece renamed(String prefix, TensorPiece p) {
        return new TensorPiece(prefix + p.name(), p.shape(), p.region(), p.data());
    }
}
