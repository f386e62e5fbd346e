package dev.trainyard.runner.engine;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Tensors by name that a restore reads region by region: a checkpoint on disk reads only the bytes of the regions
 * asked for (see {@link CheckpointReader}), so a process loading its own slices never holds the whole model.
 */
public interface TensorSource {

    /** The shape of the tensor called {@code name}, or null when there is none. */
    long[] shape(String name);

    /** The values of {@code region} of the tensor called {@code name}, row-major within the region. */
    float[] read(String name, TensorRegion region);

    /** The whole tensor called {@code name}, or null when there is none. */
    default HostTensor find(String name) {
        long[] shape = shape(name);
        return shape == null ? null : new HostTensor(name, shape, read(name, TensorRegion.whole(shape)));
    }

    /** The whole tensor called {@code name}; refused when there is none. */
    default HostTensor require(String name) {
        HostTensor t = find(name);
        if (t == null) {
            throw new IllegalArgumentException("checkpoint has no tensor for parameter " + name);
        }
        return t;
    }

    /** Elements {@code [from, from + length)} of the tensor's row-major values (a ZeRO slice of it). */
    default float[] readFlat(String name, long from, int length) {
        long[] shape = shape(name);
        if (shape == null) {
            throw new IllegalArgumentException("checkpoint has no tensor for parameter " + name);
        }
        List<TensorRegion> regions = TensorRegion.ofFlatRange(shape, from, length);
        if (regions.size() == 1) {
            return read(name, regions.get(0));
        }
        float[] values = new float[length];
        int at = 0;
        for (TensorRegion region : regions) {
            float[] part = read(name, region);
            System.arraycopy(part, 0, values, at, part.length);
            at += part.length;
        }
        return values;
    }

    /**
     * This source as tensor-parallel rank {@code rank} of {@code ranks} sees it: a tensor split by {@code layouts}
     * (by name) has its rank's slice shape, and a region of that slice reads the matching regions of the whole.
     */
    default TensorSource sliced(Map<String, ShardLayout> layouts, int rank, int ranks) {
        TensorSource whole = this;
        return new TensorSource() {
            @Override
            public long[] shape(String name) {
                long[] shape = whole.shape(name);
                ShardLayout layout = layouts.get(name);
                return shape == null || layout == null ? shape : layout.sliceShape(shape, ranks);
            }

            @Override
            public float[] read(String name, TensorRegion region) {
                ShardLayout layout = layouts.get(name);
                if (layout == null) {
                    return whole.read(name, region);
                }
                float[] values = new float[(int) region.elements()];
                for (ShardLayout.Placement p : layout.placements(region, shape(name), rank, ranks)) {
                    TensorRegion.copyOverlap(p.local(), whole.read(name, p.whole()), region, values);
                }
                return values;
            }
        };
    }

    /** Tensors held whole in memory (a whole checkpoint already read). */
    static TensorSource of(Collection<HostTensor> tensors) {
        Map<String, HostTensor> byName = new HashMap<>();
        tensors.forEach(t -> byName.put(t.name(), t));
        return of(byName);
    }

    /** Tensors held whole in memory, by name. */
    static TensorSource of(Map<String, HostTensor> byName) {
        return new TensorSource() {
            @Override
            public long[] shape(String name) {
                HostTensor t = byName.get(name);
                return t == null ? null : t.shape();
            }

            @Override
            public float[] read(String name, TensorRegion region) {
                HostTensor t = byName.get(name);
                if (t == null || !region.fits(t.shape())) {
                    throw new IllegalArgumentException("checkpoint has no region " + region + " of " + name);
                }
                float[] values = new float[(int) region.elements()];
                TensorRegion.copyOverlap(TensorRegion.whole(t.shape()), t.data(), region, values);
                return values;
            }
        };
    }
}
