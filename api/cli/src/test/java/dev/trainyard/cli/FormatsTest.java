package dev.trainyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import org.junit.jupiter.api.Test;

class FormatsTest {

    @Test
    void valuesReadAsPeopleExpect() {
        assertThat(Formats.duration(Duration.ofSeconds(45))).isEqualTo("45s");
        assertThat(Formats.duration(Duration.ofSeconds(185))).isEqualTo("3m05s");
        assertThat(Formats.duration(Duration.ofMinutes(127))).isEqualTo("2h07m");
        assertThat(Formats.usd(new BigDecimal("0.00652744"))).isEqualTo("$0.0065");
        assertThat(Formats.usd(new BigDecimal("3.6"))).isEqualTo("$3.60");
        assertThat(Formats.bytes(512L)).isEqualTo("512 B");
        assertThat(Formats.bytes(96_153L)).isEqualTo("93.9 KiB");
        assertThat(Formats.number(4.0846995)).isEqualTo("4.0847");
        assertThat(Formats.number(297_541_632.0)).isEqualTo("297541632");
        assertThat(Formats.time(OffsetDateTime.parse("2026-11-23T08:58:30.9+02:00")))
                .isEqualTo("2026-11-23 06:58:30Z");
        assertThat(Formats.steps(null, null)).isEqualTo("0/?");
    }
}
