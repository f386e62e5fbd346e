package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class WorstCaseCostTest {

    private static JobSpec spec(int gpus, long runtimeSeconds, String maxCostUsd) {
        String limits = "\"limits\": {\"maxRuntimeSeconds\": " + runtimeSeconds
                + (maxCostUsd == null ? "" : ", \"maxCostUsd\": " + maxCostUsd) + "}";
        return JobSpecValidator.normalize(SpecDocument.parse(JobSpecValidatorTest.MINIMAL
                .replace("\"gpus\": 1}", "\"gpus\": " + gpus + "}, " + limits)
                .replace("\"layers\": 1", "\"layers\": 4")));
    }

    @Test
    void isGpusTimesPriceTimesRuntime() {
        assertThat(WorstCaseCost.of(spec(2, 1800, null), new BigDecimal("3.00")))
                .isEqualByComparingTo("3.00");
    }

    @Test
    void roundsUpAsTheSchedulerDoes() {
        // 0.00361 USD/h for one second is 0.0000010027...: the scheduler guards 0.000002, never 0.000001
        assertThat(WorstCaseCost.of(spec(1, 1, null), new BigDecimal("0.00361")))
                .isEqualTo(new BigDecimal("0.000002"));
    }

    @Test
    void isCappedByTheJobsCostLimit() {
        assertThat(WorstCaseCost.of(spec(4, 86_400, "5"), new BigDecimal("2.00")))
                .isEqualByComparingTo("5");
    }
}
