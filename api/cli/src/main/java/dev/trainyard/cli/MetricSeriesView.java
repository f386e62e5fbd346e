package dev.trainyard.cli;

import dev.trainyard.client.model.MetricSeries;
import dev.trainyard.client.model.Metrics;
import dev.trainyard.client.model.SeriesPoint;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/** Views of a job's metric series: the last value of each, or all of them as CSV with one row per step. */
public final class MetricSeriesView {
    private MetricSeriesView() {}

    /** The point with the highest step of the series named {@code name}. */
    public static Optional<SeriesPoint> last(Metrics metrics, String name) {
        return metrics.getSeries().stream()
                .filter(s -> s.getName().equals(name))
                .findFirst()
                .flatMap(MetricSeriesView::last);
    }

    public static Optional<SeriesPoint> last(MetricSeries series) {
        return series.getPoints().stream().max(Comparator.comparing(SeriesPoint::getStep));
    }

    /**
     * "step,name1,name2" then one row per step in step order; a series without a value at a step leaves its cell
     * empty. Downsampled series keep the lowest and highest value of a bucket: the last one listed at a step wins.
     */
    public static String csv(Metrics metrics) {
        List<MetricSeries> series = metrics.getSeries();
        TreeSet<Long> steps = new TreeSet<>();
        series.forEach(s -> s.getPoints().forEach(p -> steps.add(p.getStep())));
        StringBuilder out = new StringBuilder("step");
        series.forEach(s -> out.append(',').append(s.getName()));
        out.append('\n');
        List<Map<Long, Double>> byStep =
                series.stream().map(MetricSeriesView::byStep).toList();
        for (long step : steps) {
            out.append(step);
            for (Map<Long, Double> values : byStep) {
                Double v = values.get(step);
                out.append(',').append(v == null ? "" : format(v));
            }
            out.append('\n');
        }
        return out.toString();
    }

    private static Map<Long, Double> byStep(MetricSeries s) {
        Map<Long, Double> values = new TreeMap<>();
        s.getPoints().forEach(p -> values.put(p.getStep(), p.getValue()));
        return values;
    }

    private static String format(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}
