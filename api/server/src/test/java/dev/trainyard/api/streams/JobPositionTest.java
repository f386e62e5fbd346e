package dev.trainyard.api.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.api.error.ApiException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobPositionTest {

    @Test
    void anIdReadsBackAsThePositionItWasMadeOf() {
        JobPosition p = JobPosition.start(7)
                .withVersion(3)
                .withEvent(41)
                .withLog(900)
                .withSteps(Map.of("loss", 20L, "eval/loss", 10L));
        assertThat(p.id()).isEqualTo("J7-3-41-900-eval/loss:10,loss:20");
        assertThat(JobPosition.parse(p.id(), 7)).isEqualTo(p);
    }

    @Test
    void stepsOnlyMoveForward() {
        JobPosition p = JobPosition.start(1).withSteps(Map.of("loss", 20L)).withSteps(Map.of("loss", 5L));
        assertThat(p.steps()).containsEntry("loss", 20L);
    }

    @Test
    void malformedAndForeignIdsAreBadParameters() {
        for (String bad : new String[] {
            "",
            "J7",
            "J7-1-2-3",
            "J7-1-2-3-loss",
            "J7-1-2-3-Loss:1",
            "J7-1-2-3-a:1,a:2",
            "J7--1-2-3-",
            "J8-1-2-3-",
            "P7.AAAA"
        }) {
            assertThatThrownBy(() -> JobPosition.parse(bad, 7))
                    .as(bad)
                    .isInstanceOf(ApiException.InvalidInput.class)
                    .hasMessageContaining("Last-Event-ID");
        }
    }
}
