package dev.trainyard.runner.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Part of a global tensor as one process holds it: the tensor's global name and shape, the region of it this piece
 * covers, and the region's values (row-major within the region). A sharded checkpoint is made of such pieces.
 */
public record TensorPiece(String name, long[] shape, TensorRegion region, float[] data) {

    public TensorPiece {
        if (!region.fits(shape)) {
            throw new IllegalArgumentException(
                    name + ": region " + region + " lies outside shape " + Arrays.toString(shape));
        }
        if (region.elements() != data.length) {
            throw new IllegalArgumentException(
                    name + ": region " + region + " does not hold " + data.length + " values");
        }
    }

    /** The whole tensor as one piece. */
    public static TensorPiece of(HostTensor whole) {
        return new TensorPiece(whole.name(), whole.shape(), TensorRegion.whole(whole.shape()), whole.data());
    }

    /**
     * Elements {@code [from, from + length)} of a tensor, given as that flat run of values, cut into the regions
     * that cover it (see {@link TensorRegion#ofFlatRange}).
     */
    public static List<TensorPiece> ofFlatRange(String name, long[] shape, long from, float[] values) {
        List<TensorPiece> pieces = new ArrayList<>();
        int at = 0;
        for (TensorRegion region : TensorRegion.ofFlatRange(shape, from, values.length)) {
            int n = (int) region.elements();
            pieces.add(new TensorPiece(name, shape, region, Arrays.copyOfRange(values, at, at + n)));
            at += n;
        }
        return pieces;
    }

    /**
     * Writer {@code writer}'s share of a tensor every one of {@code writers} processes holds whole: an equal run of
     * its flat elements, so replicated state is written once in all and each process writes about 1/n of it.
     */
    public static List<TensorPiece> share(HostTensor whole, int writer, int writers) {
        long n = whole.data().length;
        long from = n * writer / writers;
        long to = n * (writer + 1) / writers;
        return ofFlatRange(whole.name(), whole.shape(), from, Arrays.copyOfRange(whole.data(), (int) from, (int) to));
    }

    /** The part of this piece inside {@code part} (a region of the same tensor), or null when they do not meet. */
    public TensorPiece within(TensorRegion part) {
        TensorRegion overlap = region.overlap(part);
        if (overlap == null) {
            return null;
        }
        float[] values = new float[(int) overlap.elements()];
        TensorRegion.copyOverlap(region, data, overlap, values);
        return new TensorPiece(name, shape, overlap, values);
    }
}
