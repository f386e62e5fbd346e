package dev.trainyard.api.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The three machines allow exactly the moves written in docs/design/lifecycles.md: each table is restated here
 * from the document, every listed move passes the check that every write makes, and every other pair is refused.
 */
class TransitionTablesTest {

    /** docs/design/lifecycles.md, "Job": from -> to, one string per move. */
    static final Set<String> JOB = Set.of(
            "QUEUED>SCHEDULED",
            "QUEUED>CANCELLED",
            "QUEUED>FAILED",
            "SCHEDULED>RUNNING",
            "SCHEDULED>QUEUED",
            "SCHEDULED>CANCELLED",
            "SCHEDULED>FAILED",
            "SCHEDULED>BUDGET_EXHAUSTED",
            "RUNNING>SUCCEEDED",
            "RUNNING>FAILED",
            "RUNNING>CANCELLED",
            "RUNNING>BUDGET_EXHAUSTED",
            "RUNNING>PREEMPTED",
            "RUNNING>QUEUED",
            "PREEMPTED>QUEUED",
            "PREEMPTED>CANCELLED",
            "PREEMPTED>FAILED");

    /** docs/design/lifecycles.md, "Attempt". */
    static final Set<String> ATTEMPT = Set.of(
            "STARTING>RUNNING",
            "STARTING>PREEMPTING",
            "STARTING>STOPPING",
            "STARTING>ENDED",
            "RUNNING>PREEMPTING",
            "RUNNING>STOPPING",
            "RUNNING>ENDED",
            "PREEMPTING>STOPPING",
            "PREEMPTING>ENDED",
            "STOPPING>ENDED");

    /** docs/design/lifecycles.md, "Runner". */
    static final Set<String> RUNNER = Set.of(
            "REGISTERED>ACTIVE",
            "REGISTERED>DRAINING",
            "REGISTERED>LOST",
            "ACTIVE>ACTIVE",
            "ACTIVE>DRAINING",
            "ACTIVE>LOST",
            "DRAINING>ACTIVE",
            "DRAINING>DRAINING",
            "DRAINING>OFFLINE",
            "DRAINING>LOST",
            "OFFLINE>ACTIVE",
            "LOST>ACTIVE");

    /** Every ordered pair of a machine's states, self-moves included, as "FROM>TO". */
    static <S extends Enum<S>> List<String> allPairs(Class<S> states) {
        List<String> pairs = new ArrayList<>();
        for (S from : states.getEnumConstants()) {
            for (S to : states.getEnumConstants()) {
                pairs.add(from.name() + ">" + to.name());
            }
        }
        return pairs;
    }

    private static <S extends Enum<S>> void assertTable(Class<S> states, TransitionTable<S> table, Set<String> legal) {
        int refused = 0;
        for (String pair : allPairs(states)) {
            S from = Enum.valueOf(states, pair.substring(0, pair.indexOf('>')));
            S to = Enum.valueOf(states, pair.substring(pair.indexOf('>') + 1));
            if (legal.contains(pair)) {
                table.check(from, to);
                assertThat(table.allows(from, to)).as(pair).isTrue();
            } else {
                assertThatThrownBy(() -> table.check(from, to))
                        .as(pair)
                        .isInstanceOf(IllegalTransition.class)
                        .hasMessageContaining("from " + from + " to " + to);
                assertThat(table.allows(from, to)).as(pair).isFalse();
                refused++;
            }
        }
        int size = states.getEnumConstants().length;
        assertThat(refused).isEqualTo(size * size - legal.size());
    }

    @Test
    void aJobMovesOnlyAsDocumented() {
        assertTable(JobState.class, JobState.TRANSITIONS, JOB);
    }

    @Test
    void anAttemptMovesOnlyAsDocumented() {
        assertTable(AttemptState.class, AttemptState.TRANSITIONS, ATTEMPT);
    }

    @Test
    void aRunnerMovesOnlyAsDocumented() {
        assertTable(RunnerState.class, RunnerState.TRANSITIONS, RUNNER);
    }

    @Test
    void terminalJobStatesAreExactlyThoseWithoutMoves() {
        assertThat(List.of(JobState.values()))
                .filteredOn(JobState::isTerminal)
                .containsExactly(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.BUDGET_EXHAUSTED);
    }

    @Test
    void eachStopReasonHasItsStoredAndProtocolWordAndTheAttemptStateItLeads() {
        assertThat(StopReason.ofWord("CANCELLED")).isEqualTo(StopReason.CANCEL);
        assertThat(StopReason.protocolWordOf("PREEMPTED")).isEqualTo("PREEMPT");
        assertThat(StopReason.protocolWordOf("BUDGET_EXHAUSTED")).isEqualTo("BUDGET");
        assertThat(StopReason.protocolWordOf("RESIZE")).isEqualTo("RESIZE");
        assertThat(StopReason.protocolWordOf(null)).isNull();
        for (StopReason r : StopReason.values()) {
            assertThat(StopReason.ofWord(r.word())).isEqualTo(r);
            assertThat(AttemptState.TRANSITIONS.allows(AttemptState.RUNNING, r.attemptState()))
                    .as(r.name())
                    .isTrue();
            assertThat(AttemptState.ASKED_TO_STOP).as(r.name()).contains(r.attemptState());
        }
        assertThatThrownBy(() -> StopReason.ofWord("STOP")).isInstanceOf(IllegalArgumentException.class);
    }
}
