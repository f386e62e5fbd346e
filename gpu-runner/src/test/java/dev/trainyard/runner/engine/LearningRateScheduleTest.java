package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Warm-up rises linearly to the peak; cosine decay reaches the minimum at the last step. */
class LearningRateScheduleTest {

    private final LearningRateSchedule schedule = new LearningRateSchedule(1.0, 0.1, 4, 14);

    @Test
    void warmsUpLinearly() {
        assertThat(schedule.rateAt(0)).isEqualTo(0.25);
        assertThat(schedule.rateAt(3)).isEqualTo(1.0);
    }

    @Test
    void decaysToTheMinimumAtTheLastStep() {
        assertThat(schedule.rateAt(4)).isEqualTo(1.0);
        assertThat(schedule.rateAt(13)).isCloseTo(0.1, within(1e-12));
        assertThat(schedule.rateAt(8)).isBetween(0.1, 1.0);
        assertThat(schedule.rateAt(9)).isLessThan(schedule.rateAt(8));
    }
}
