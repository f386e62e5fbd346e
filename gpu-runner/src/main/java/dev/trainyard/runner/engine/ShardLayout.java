package dev.trainyard.runner.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How a parameter is split across the ranks of a tensor-parallel group: along dimension {@code dim}, seen as
 * {@code parts} equal consecutive parts (QKV's rows are three: queries, keys, values), each divided into one
 * slice per rank. Rank r holds slice r of every part, so each rank gets whole attention heads of each of Q, K
 * and V. Checkpoints and exports store the whole tensor: {@link #gather} joins the ranks' slices, {@link #slice}
 * cuts a whole tensor for one rank, so a checkpoint written at one group size loads at any other.
 */
public record ShardLayout(int dim, int parts) {

    /** Column-parallel weights and biases: the output features (dimension 0) split. */
    public static final ShardLayout ROWS = new ShardLayout(0, 1);

    /** Row-parallel weights: the input features (dimension 1) split. */
    public static final ShardLayout COLUMNS = new ShardLayout(1, 1);

    public ShardLayout {
        if (dim < 0 || parts < 1) {
            throw new IllegalArgumentException("dim " + dim + ", parts " + parts);
        }
    }

    /** The shape of one rank's slice of a tensor of {@code shape}. */
    public long[] sliceShape(long[] shape, int ranks) {
        long[] local = shape.clone();
        local[dim] = shape[dim] / ranks;
        return local;
    }

    /** Rank {@code rank}'s slice of the whole row-major tensor {@code values} of {@code shape}. */
    public float[] slice(float[] values, long[] shape, int rank, int ranks) {
        Geometry g = new Geometry(shape, ranks);
        float[] local = new float[values.length / ranks];
        int at = 0;
        for (long o = 0; o < g.outer; o++) {
            for (int p = 0; p < parts; p++) {
                long from = (o * shape[dim] + p * g.part + rank * g.slice) * g.inner;
                int length = (int) (g.slice * g.inner);
                System.arraycopy(values, (int) from, local, at, length);
                at += length;
            }
        }
        return local;
    }

    /** Rank {@code rank}'s slice of a whole tensor, under the same name. */
    public HostTensor slice(HostTensor whole, int rank, int ranks) {
        return new HostTensor(
                whole.name(), sliceShape(whole.shape(), ranks), slice(whole.data(), whole.shape(), rank, ranks));
    }

    /** The whole tensor's shape, given one rank's slice shape. */
    public long[] wholeShape(long[] sliceShape, int ranks) {
        long[] whole = sliceShape.clone();
        whole[dim] = sliceShape[dim] * ranks;
        return whole;
    }

    /**
     * A piece of rank {@code rank}'s slice (in the slice's own coordinates) as pieces of the whole tensor: one per
     * part it touches, since a rank's slice of a tensor in several parts is not one region of the whole.
     */
    public List<TensorPiece> toWhole(TensorPiece local, int rank, int ranks) {
        long[] whole = wholeShape(local.shape(), ranks);
        List<TensorPiece> pieces = new ArrayList<>();
        for (Placement p : placements(local.region(), local.shape(), rank, ranks)) {
            pieces.add(new TensorPiece(
                    local.name(), whole, p.whole(), local.within(p.local()).data()));
        }
        return pieces;
    }

    /** Part of a region of a rank's slice ({@code local}, slice coordinates) and where it lies in the whole tensor. */
    public record Placement(TensorRegion local, TensorRegion whole) {}

    /**
     * Where {@code region} of rank {@code rank}'s slice (of shape {@code sliceShape}) lies in the whole tensor: one
     * placement per part it touches, each a box in both, so a reader can fetch a slice's region from the whole.
     */
    public List<Placement> placements(TensorRegion region, long[] sliceShape, int rank, int ranks) {
        long sliceLength = sliceShape[dim] / parts;
        long partLength = sliceLength * ranks;
        List<Placement> placements = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            TensorRegion inPart =
                    region.overlap(TensorRegion.whole(sliceShape).narrowed(dim, p * sliceLength, sliceLength));
            if (inPart != null) {
                placements.add(new Placement(inPart, inPart.shifted(dim, p * partLength + (rank - p) * sliceLength)));
            }
        }
        return placements;
    }

    /** The whole tensor from every rank's slice, in rank order. */
    public HostTensor gather(List<HostTensor> slices) {
        int ranks = slices.size();
        long[] shape = slices.get(0).shape().clone();
        shape[dim] *= ranks;
        Geometry g = new Geometry(shape, ranks);
        float[] whole = new float[slices.get(0).data().length * ranks];
        int[] read = new int[ranks];
        for (long o = 0; o < g.outer; o++) {
            for (int p = 0; p < parts; p++) {
                for (int r = 0; r < ranks; r++) {
                    long to = (o * shape[dim] + p * g.part + r * g.slice) * g.inner;
                    int length = (int) (g.slice * g.inner);
                    System.arraycopy(slices.get(r).data(), read[r], whole, (int) to, length);
                    read[r] += length;
                }
            }
        }
        return new HostTensor(slices.get(0).name(), shape, whole);
    }

    /** The tensor seen as [outer, dim, inner]; the split dimension as parts of part rows, slices of slice rows. */
    private final class Geometry {
        final long outer;
        final long inner;
        final long part;
        final long slice;

        Geometry(long[] shape, int ranks) {
            if (dim >= shape.length || shape[dim] % ((long) parts * ranks) != 0) {
                throw new IllegalArgumentException("cannot split dimension " + dim + " of " + Arrays.toString(shape)
                        + " into " + parts + " x " + ranks + " slices");
            }
            long o = 1;
            for (int i = 0; i < dim; i++) {
                o *= shape[i];
            }
            long in = 1;
            for (int i = dim + 1; i < shape.length; i++) {
                in *= shape[i];
            }
            outer = o;
            inner = in;
            part = shape[dim] / parts;
            slice = part / ranks;
        }
    }
}
