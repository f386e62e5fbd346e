package dev.trainyard.runner.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * A process's own pieces of the state (see {@link ModelShard}), copied between steps for its shard of a sharded
 * checkpoint, their values in Java or native memory until written; {@link #release()} frees the native ones.
 */
public record CapturedShard(
        List<CapturedPiece> parameters,
        List<CapturedPiece> buffers,
        List<CapturedPiece> firstMoments,
        List<CapturedPiece> secondMoments) {

    /** Pieces already in Java memory. */
    public static CapturedShard of(ModelShard shard) {
        return new CapturedShard(
                held(shard.parameters()),
                held(shard.buffers()),
                held(shard.firstMoments()),
                held(shard.secondMoments()));
    }

    /** Frees every piece's values (after the write, or when it will not happen). */
    public void release() {
        for (List<CapturedPiece> kind : List.of(parameters, buffers, firstMoments, secondMoments)) {
            kind.forEach(p -> p.values().release());
        }
    }

    /** Every piece, its name prefixed with its kind as in a checkpoint file (as {@link ModelShard#labelled()}). */
    List<CapturedPiece> labelled() {
        List<CapturedPiece> all = new ArrayList<>();
        parameters.forEach(p -> all.add(renamed(CheckpointState.PARAM, p)));
        buffers.forEach(p -> all.add(renamed(CheckpointState.BUFFER, p)));
        firstMoments.forEach(p -> all.add(renamed(CheckpointState.FIRST_MOMENT, p)));
        secondMoments.forEach(p -> all.add(renamed(CheckpointState.SECOND_MOMENT, p)));
        return all;
    }

    private static CapturedPiece renamed(String prefix, CapturedPiece p) {
        return new CapturedPiece(prefix + p.name(), p.shape(), p.region(), p.values());
    }

    private static List<CapturedPiece> held(List<TensorPiece> pieces) {
        List<CapturedPiece> captured = new ArrayList<>();
        pieces.forEach(p -> captured.add(CapturedPiece.of(p)));
        return captured;
    }
}
