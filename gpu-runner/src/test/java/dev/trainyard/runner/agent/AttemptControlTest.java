package dev.trainyard.runner.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.StopRequest;
import org.junit.jupiter.api.Test;

/** What the engine is told to do after a step, from what the platform decided about the attempt. */
class AttemptControlTest {

    private final AttemptControl control = new AttemptControl();

    @Test
    void trainsOnWhileThePlatformWantsTheAttempt() {
        control.requestStop(null);

        assertThat(control.check(1)).isEqualTo(StopRequest.CONTINUE);
        assertThat(control.abandoned()).isFalse();
    }

    @Test
    void aCancelPreemptionOrBudgetStopCheckpointsFirst() {
        for (String reason : new String[] {"CANCEL", "PREEMPT", "BUDGET"}) {
            AttemptControl asked = new AttemptControl();
            asked.requestStop(reason);

            assertThat(asked.check(7)).isEqualTo(StopRequest.CHECKPOINT_AND_STOP);
            assertThat(asked.stopRequested()).isEqualTo(reason);
            assertThat(asked.abandoned()).as("its checkpoint is still wanted").isFalse();
        }
    }

    @Test
    void aLaterAnswerWithoutStopDoesNotWithdrawIt() {
        control.requestStop("PREEMPT");
        control.requestStop(null);

        assertThat(control.stopRequested()).isEqualTo("PREEMPT");
    }

    @Test
    void aFencedAttemptStopsAtOnceWithoutCheckpointAndIsAbandoned() {
        control.requestStop("CANCEL");
        control.fence();

        assertThat(control.check(3)).isEqualTo(StopRequest.STOP);
        assertThat(control.abandoned()).isTrue();
        assertThat(control.dropped()).isFalse();
    }

    @Test
    void aDroppedAttemptStopsAtOnceWithoutCheckpointAndIsAbandoned() {
        control.drop();

        assertThat(control.check(3)).isEqualTo(StopRequest.STOP);
        assertThat(control.abandoned()).isTrue();
        assertThat(control.fenced()).isFalse();
    }
}
