package dev.trainyard.runner.engine;

/**
 * A piece of a global tensor as a sharded checkpoint writes it (see {@link TensorPiece}), its values held in Java or
 * native memory until written.
 */
public record CapturedPiece(String name, long[] shape, TensorRegion region, TensorValues values) {

    public CapturedPiece {
        if (!region.fits(shape) || region.elements() != values.elements()) {
            throw new IllegalArgumentException(
                    name + ": region " + region + " does not fit its shape or its " + values.elements() + " values");
        }
    }

    /** A piece held in Java memory. */
    public static CapturedPiece of(TensorPiece piece) {
        return new CapturedPiece(piece.name(), piece.shape(), piece.region(), TensorValues.of(piece.data()));
    }
}
