package dev.trainyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.MetricSeries;
import dev.trainyard.client.model.Metrics;
import dev.trainyard.client.model.SeriesPoint;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricSeriesViewTest {
    private static final Metrics METRICS = new Metrics()
            .jobId(1L)
            .available(List.of("eval_loss", "loss"))
            .series(List.of(series("loss", 1, 3.5, 2, 3.25, 3, 3.0), series("eval_loss", 2, 3.4)));

    @Test
    void csvHasOneColumnPerSeriesAndOneRowPerStep() {
        assertThat(MetricSeriesView.csv(METRICS)).isEqualTo("""
                step,loss,eval_loss
                1,3.5,
                2,3.25,3.4
                3,3,
                """);
    }

    @Test
    void lastIsThePointOfTheHighestStep() {
        assertThat(MetricSeriesView.last(METRICS, "loss").orElseThrow().getValue())
                .isEqualTo(3.0);
        assertThat(MetricSeriesView.last(METRICS, "missing")).isEmpty();
    }

    @Test
    void noSeriesIsAHeaderAlone() {
        assertThat(MetricSeriesView.csv(
                        new Metrics().jobId(1L).available(List.of()).series(List.of())))
                .isEqualTo("step\n");
    }

    private static MetricSeries series(String name, double... stepValue) {
        MetricSeries s = new MetricSeries().name(name).points(new java.util.ArrayList<>());
        for (int i = 0; i < stepValue.length; i += 2) {
            s.getPoints().add(new SeriesPoint().step((long) stepValue[i]).value(stepValue[i + 1]));
        }
        return s;
    }
}
