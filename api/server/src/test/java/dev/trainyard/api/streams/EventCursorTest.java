package dev.trainyard.api.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EventCursorTest {

    @Test
    void idsAtOrBelowTheStartAndIdsAlreadySeenAreNotNew() {
        EventCursor cursor = new EventCursor(1000, List.of(990L, 1000L));
        assertThat(cursor.take(990)).isFalse();
        assertThat(cursor.take(1000)).isFalse();
        assertThat(cursor.take(1001)).isTrue();
        assertThat(cursor.take(1001)).as("twice").isFalse();
    }

    @Test
    void aLowerIdCommittedLateIsNewOnceAndOnlyWithinTheWindow() {
        EventCursor cursor = new EventCursor(0, List.of());
        assertThat(cursor.take(5)).isTrue();
        assertThat(cursor.take(3)).as("committed after 5 was read").isTrue();
        assertThat(cursor.take(3)).isFalse();
        assertThat(cursor.take(5 + EventCursor.LOOKBACK + 10)).isTrue();
        cursor.trim();
        assertThat(cursor.readFrom()).isEqualTo(15);
        assertThat(cursor.take(4)).as("fell out of the window").isFalse();
        assertThat(cursor.take(16)).isTrue();
    }

    @Test
    void itsIdKeepsWhichRecentIdsWereSeenSoAResumedCursorStillTakesALateCommitOnce() {
        EventCursor cursor = new EventCursor(0, List.of());
        cursor.take(100);
        cursor.take(102);
        cursor.take(104);
        EventCursor resumed = EventCursor.parse(cursor.id()).orElseThrow();
        assertThat(resumed.id()).isEqualTo(cursor.id());
        assertThat(resumed.take(100)).isFalse();
        assertThat(resumed.take(104)).as("the highest").isFalse();
        assertThat(resumed.take(101)).as("committed late").isTrue();
        assertThat(resumed.take(103)).isTrue();
        assertThat(resumed.take(101)).isFalse();
        assertThat(resumed.take(105)).isTrue();
    }

    @Test
    void anythingButACursorIdIsNotOne() {
        assertThat(EventCursor.parse("P12")).isEmpty();
        assertThat(EventCursor.parse("J1-0-0-0-")).isEmpty();
        assertThat(EventCursor.parse("P12." + "A".repeat(42))).isEmpty();
        assertThat(EventCursor.parse("P12." + "A".repeat(43))).isPresent();
    }
}
