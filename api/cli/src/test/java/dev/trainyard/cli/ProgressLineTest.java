package dev.trainyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ProgressLineTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void barFillsWithTheFractionOfSteps() {
        assertThat(ProgressLine.bar(0, 20)).isEqualTo("[" + ".".repeat(24) + "]   0%");
        assertThat(ProgressLine.bar(5, 20)).isEqualTo("[" + "#".repeat(6) + ".".repeat(18) + "]  25%");
        assertThat(ProgressLine.bar(20, 20)).isEqualTo("[" + "#".repeat(24) + "] 100%");
        assertThat(ProgressLine.bar(3, 0)).as("unknown total").isEqualTo("[" + ".".repeat(24) + "]   0%");
    }

    @Test
    void etaFollowsTheRateSinceFollowingBegan() {
        ProgressLine line = new ProgressLine();
        line.observe(10, T0);

        assertThat(line.eta(10, 100, T0.plusSeconds(5))).as("no progress yet").isNull();
        assertThat(line.eta(30, 100, T0.plusSeconds(10))).isEqualTo(Duration.ofSeconds(35));
        assertThat(line.eta(100, 100, T0.plusSeconds(40))).isEqualTo(Duration.ZERO);
    }

    @Test
    void rendersStateStepsLossAndEta() {
        ProgressLine line = new ProgressLine();
        line.observe(0, T0);

        assertThat(line.render("RUNNING", 10, 20, 2.5, T0.plusSeconds(10)))
                .isEqualTo("RUNNING   [############............]  50% 10/20  loss 2.5000  eta 10s");
        assertThat(line.render("QUEUED", 0, 20, null, T0)).isEqualTo("QUEUED    [" + ".".repeat(24) + "]   0% 0/20");
        assertThat(line.render("SUCCEEDED", 20, 20, 1.0, T0.plusSeconds(20))).doesNotContain("eta");
    }
}
