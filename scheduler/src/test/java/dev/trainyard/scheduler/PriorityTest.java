package dev.trainyard.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PriorityTest {

    @ParameterizedTest(name = "\"{0}\" parses as {1}")
    @CsvSource({"low, LOW", "normal, NORMAL", "high, HIGH", "urgent, URGENT", "' High ', HIGH", "URGENT, URGENT"})
    void parsesTheJobSpecSpelling(String text, Priority expected) {
        assertThat(Priority.parse(text)).isEqualTo(expected);
        assertThat(Priority.parse(expected.spelling())).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} outranks {1}: {2}")
    @CsvSource({
        "URGENT, HIGH, true",
        "HIGH, NORMAL, true",
        "NORMAL, LOW, true",
        "URGENT, LOW, true",
        "LOW, NORMAL, false",
        "NORMAL, NORMAL, false",
        "HIGH, URGENT, false"
    })
    void higherRankWins(Priority a, Priority b, boolean outranks) {
        assertThat(a.outranks(b)).isEqualTo(outranks);
        assertThat(a.rank() > b.rank()).isEqualTo(outranks);
    }

    @Test
    void rejectsUnknownSpellings() {
        assertThatThrownBy(() -> Priority.parse("critical"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("low|normal|high|urgent");
        assertThatThrownBy(() -> Priority.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
