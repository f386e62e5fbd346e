package dev.trainyard.runner.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A box inside a tensor: an offset and a length per dimension. A piece of a sharded checkpoint holds the values of
 * one region of a global tensor, row-major within the region, so pieces cut by any layout (tensor-parallel slices,
 * ZeRO's flat segments, pipeline stages) are described alike and a reader can copy the overlap of any two.
 */
public record TensorRegion(long[] offsets, long[] lengths) {

    public TensorRegion {
        if (offsets.length != lengths.length) {
            throw new IllegalArgumentException("offsets " + Arrays.toString(offsets) + " and lengths "
                    + Arrays.toString(lengths) + " differ in rank");
        }
        offsets = offsets.clone();
        lengths = lengths.clone();
    }

    /** The whole of a tensor of {@code shape}. */
    public static TensorRegion whole(long[] shape) {
        return new TensorRegion(new long[shape.length], shape);
    }

    /** The number of elements in the region. */
    public long elements() {
        long n = 1;
        for (long l : lengths) {
            n *= l;
        }
        return n;
    }

    /** Whether the region lies inside a tensor of {@code shape}. */
    public boolean fits(long[] shape) {
        if (shape.length != offsets.length) {
            return false;
        }
        for (int d = 0; d < shape.length; d++) {
            if (offsets[d] < 0 || lengths[d] < 0 || offsets[d] + lengths[d] > shape[d]) {
                return false;
            }
        }
        return true;
    }

    /** Where this region and {@code other} (of the same tensor) overlap, or null when they do not meet. */
    public TensorRegion overlap(TensorRegion other) {
        long[] o = new long[offsets.length];
        long[] l = new long[offsets.length];
        for (int d = 0; d < offsets.length; d++) {
            long low = Math.max(offsets[d], other.offsets[d]);
            long high = Math.min(offsets[d] + lengths[d], other.offsets[d] + other.lengths[d]);
            if (high <= low) {
                return null;
            }
            o[d] = low;
            l[d] = high - low;
        }
        return new TensorRegion(o, l);
    }

    /** This region moved by {@code delta} along dimension {@code dim}. */
    public TensorRegion shifted(int dim, long delta) {
        long[] moved = offsets.clone();
        moved[dim] += delta;
        return new TensorRegion(moved, lengths);
    }

    /** This region narrowed along {@code dim} to {@code [from, from + length)} (absolute coordinates). */
    public TensorRegion narrowed(int dim, long from, long length) {
        long[] o = offsets.clone();
        long[] l = lengths.clone();
        o[dim] = from;
        l[dim] = length;
        return new TensorRegion(o, l);
    }

    /**
     * The row-major elements {@code [from, from + length)} of a tensor of {@code shape} as regions, in flat order:
     * a partial row, a block of whole rows, a partial row, recursively. Each region's values are therefore a
     * contiguous run of the flat range, and the runs follow each other.
     */
    public static List<TensorRegion> ofFlatRange(long[] shape, long from, long length) {
        List<TensorRegion> regions = new ArrayList<>();
        if (length > 0) {
            addFlatRange(shape, 0, new long[shape.length], from, from + length, regions);
        }
        return regions;
    }

    private static void addFlatRange(long[] shape, int dim, long[] prefix, long from, long to, List<TensorRegion> out) {
        if (dim == shape.length) {
            out.add(new TensorRegion(prefix.clone(), ones(shape.length)));
            return;
        }
        long inner = 1;
        for (int d = dim + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        long firstRow = from / inner;
        long lastRow = (to - 1) / inner;
        if (firstRow == lastRow && !(from % inner == 0 && to - from == inner)) {
            prefix[dim] = firstRow;
            addFlatRange(shape, dim + 1, prefix, from - firstRow * inner, to - firstRow * inner, out);
            return;
        }
        long fullFrom = firstRow;
        if (from % inner != 0) {
            prefix[dim] = firstRow;
            addFlatRange(shape, dim + 1, prefix, from % inner, inner, out);
            fullFrom++;
        }
        long fullTo = to % inner == 0 ? lastRow + 1 : lastRow;
        if (fullTo > fullFrom) {
            long[] offsets = new long[shape.length];
            long[] lengths = new long[shape.length];
            System.arraycopy(prefix, 0, offsets, 0, dim);
            Arrays.fill(lengths, 0, dim, 1);
            offsets[dim] = fullFrom;
            lengths[dim] = fullTo - fullFrom;
            System.arraycopy(shape, dim + 1, lengths, dim + 1, shape.length - dim - 1);
            out.add(new TensorRegion(offsets, lengths));
        }
        if (to % inner != 0 && lastRow >= fullFrom) {
            prefix[dim] = lastRow;
            addFlatRange(shape, dim + 1, prefix, 0, to % inner, out);
        }
    }

    private static long[] ones(int n) {
        long[] ones = new long[n];
        Arrays.fill(ones, 1);
        return ones;
    }

    /**
     * Copies the values where {@code source} (holding {@code sourceValues}) and {@code target} (holding {@code
     * targetValues}) overlap, both row-major within their regions of the same tensor; returns how many were copied.
     */
    public static long copyOverlap(
            TensorRegion source, float[] sourceValues, TensorRegion target, float[] targetValues) {
        return forEachRun(
                source,
                target,
                (from, to, length) -> System.arraycopy(sourceValues, (int) from, targetValues, (int) to, length));
    }

    /** One contiguous run of an overlap: where it starts in the source's and the target's row-major values. */
    @FunctionalInterface
    public interface Run {
        void copy(long sourceIndex, long targetIndex, int length);
    }

    /**
     * The overlap of {@code source} and {@code target} as runs contiguous in both (consecutive rows merged where
     * they follow each other in both, so a block of whole rows is one run), in row-major order; returns how many
     * elements the runs cover. A reader copies each run with one copy, or one read from a file.
     */
    public static long forEachRun(TensorRegion source, TensorRegion target, Run run) {
        int rank = source.offsets.length;
        if (rank != target.offsets.length) {
            throw new IllegalArgumentException("regions " + source + " and " + target + " differ in rank");
        }
        if (rank == 0) {
            run.copy(0, 0, 1);
            return 1;
        }
        long[] low = new long[rank];
        long[] high = new long[rank];
        for (int d = 0; d < rank; d++) {
            low[d] = Math.max(source.offsets[d], target.offsets[d]);
            high[d] = Math.min(source.offsets[d] + source.lengths[d], target.offsets[d] + target.lengths[d]);
            if (high[d] <= low[d]) {
                return 0;
            }
        }
        long[] index = low.clone();
        int row = (int) (high[rank - 1] - low[rank - 1]);
        long pendingFrom = -1;
        long pendingTo = -1;
        long pendingLength = 0;
        long covered = 0;
        while (true) {
            long from = source.flatIndex(index);
            long to = target.flatIndex(index);
            if (pendingLength > 0
                    && from == pendingFrom + pendingLength
                    && to == pendingTo + pendingLength
                    && pendingLength + row <= Integer.MAX_VALUE) {
                pendingLength += row;
            } else {
                if (pendingLength > 0) {
                    run.copy(pendingFrom, pendingTo, (int) pendingLength);
                }
                pendingFrom = from;
                pendingTo = to;
                pendingLength = row;
            }
            covered += row;
            int d = rank - 2;
            while (d >= 0 && ++index[d] == high[d]) {
                index[d] = low[d];
                d--;
            }
            if (d < 0) {
                run.copy(pendingFrom, pendingTo, (int) pendingLength);
                return covered;
            }
        }
    }

    /** Where the element at global {@code index} sits in this region's row-major values. */
    private long flatIndex(long[] index) {
        long flat = 0;
        for (int d = 0; d < offsets.length; d++) {
            flat = flat * lengths[d] + (index[d] - offsets[d]);
        }
        return flat;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorRegion r && Arrays.equals(offsets, r.offsets) && Arrays.equals(lengths, r.lengths);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(offsets) + Arrays.hashCode(lengths);
    }

    @Override
    public String toString() {
        return "offsets " + Arrays.toString(offsets) + " lengths " + Arrays.toString(lengths);
    }
}
