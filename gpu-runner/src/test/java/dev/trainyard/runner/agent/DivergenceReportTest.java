package dev.trainyard.runner.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.model.Divergence;
import dev.trainyard.runner.engine.TrainingDivergedException;
import org.junit.jupiter.api.Test;

/** What the agent tells the API about a diverged attempt: the engine's step and loss, as data. */
class DivergenceReportTest {

    @Test
    void aFiniteLossIsSentAsANumberWithItsStep() {
        Divergence d = AttemptRun.divergenceOf(new TrainingDivergedException(57, 4285.3, "diverged"));

        assertThat(d.getStep()).isEqualTo(57);
        assertThat(d.getLoss()).isEqualTo(4285.3);
        assertThat(d.getNonFinite()).isNull();
    }

    @Test
    void aNonFiniteLossIsNamedBecauseJsonHasNoNumberForIt() {
        assertThat(AttemptRun.divergenceOf(new TrainingDivergedException(3, Double.NaN, "diverged"))
                        .getNonFinite())
                .isEqualTo(Divergence.NonFiniteEnum.NA_N);
        Divergence infinite = AttemptRun.divergenceOf(
                new RuntimeException("stage failed", new TrainingDivergedException(4, Double.NEGATIVE_INFINITY, "x")));
        assertThat(infinite.getStep()).isEqualTo(4);
        assertThat(infinite.getNonFinite().getValue()).isEqualTo("-Infinity");
        assertThat(infinite.getLoss()).isNull();
    }

    @Test
    void anyOtherFailureCarriesNoDivergence() {
        assertThat(AttemptRun.divergenceOf(new IllegalStateException("out of memory")))
                .isNull();
    }
}
