package dev.trainyard.cli.commands;

import dev.trainyard.cli.Formats;
import dev.trainyard.cli.MetricSeriesView;
import dev.trainyard.cli.Table;
import dev.trainyard.client.model.MetricSeries;
import dev.trainyard.client.model.Metrics;
import dev.trainyard.client.model.SeriesPoint;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** A job's metrics: the last value of each series, or the series as CSV. */
@Command(name = "metrics", description = "Show the last value of each metric of a job, or with --csv the series.")
public class MetricsCommand extends ApiCommand {
    @Parameters(paramLabel = "ID", description = "Job id.")
    private long id;

    @Option(names = "--names", paramLabel = "NAME,...", description = "Only these metrics, e.g. loss,eval_loss.")
    private String names;

    @Option(names = "--csv", description = "Print the series as CSV: a step column, then one column per metric.")
    private boolean csv;

    @Option(
            names = "--points",
            defaultValue = "10000",
            description = "At most this many points per series; longer"
                    + " series are downsampled keeping each bucket's extremes (2-10000, default ${DEFAULT-VALUE}).")
    private int points;

    @Override
    public Integer call() {
        Metrics metrics = api().jobs().getJobMetrics(id, null, names, points, null);
        if (csv && !json) {
            out().print(MetricSeriesView.csv(metrics));
            out().flush();
            return 0;
        }
        Table t = new Table("NAME", "STEP", "VALUE");
        for (MetricSeries s : metrics.getSeries()) {
            Optional<SeriesPoint> last = MetricSeriesView.last(s);
            t.add(
                    s.getName(),
                    last.map(SeriesPoint::getStep).orElse(null),
                    last.map(p -> Formats.number(p.getValue())).orElse(null));
        }
        return print(metrics, t);
    }
}
