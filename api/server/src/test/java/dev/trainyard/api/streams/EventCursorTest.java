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
}
