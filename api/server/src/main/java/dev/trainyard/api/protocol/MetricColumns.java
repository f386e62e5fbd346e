package dev.trainyard.api.protocol;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A metric batch as three parallel columns for a single array-bound upsert, with one value per (name, step):
 * the last one in the batch, as if the points had been written one after another. One statement cannot
 * update the same row twice, so duplicates must go before it runs.
 */
record MetricColumns(long[] steps, String[] names, double[] values, long maxStep) {

    private record Key(String name, long step) {}

    static MetricColumns of(List<RunnerMessages.MetricPoint> points) {
        Map<Key, Integer> slots = new HashMap<>(points.size() * 2);
        long[] steps = new long[points.size()];
        String[] names = new String[points.size()];
        double[] values = new double[points.size()];
        int size = 0;
        long maxStep = 0;
        for (RunnerMessages.MetricPoint p : points) {
            Integer slot = slots.putIfAbsent(new Key(p.name(), p.step()), size);
            if (slot != null) {
                values[slot] = p.value();
                continue;
            }
            steps[size] = p.step();
            names[size] = p.name();
            values[size] = p.value();
            maxStep = Math.max(maxStep, p.step());
            size++;
        }
        if (size < points.size()) {
            steps = Arrays.copyOf(steps, size);
            names = Arrays.copyOf(names, size);
            values = Arrays.copyOf(values, size);
        }
        return new MetricColumns(steps, names, values, maxStep);
    }
}
