package dev.trainyard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TableTest {

    @Test
    void padsEachColumnToItsWidestCellWithoutTrailingSpaces() {
        String text = new Table("ID", "NAME", "STATE")
                .add(7, "arith-gpt", "RUNNING")
                .add(12, "x", null)
                .render();

        assertThat(text).isEqualTo("""
                ID  NAME       STATE
                7   arith-gpt  RUNNING
                12  x          -
                """);
    }

    @Test
    void rowsAloneForKeyValueListings() {
        String text = new Table("", "")
                .add("state", "QUEUED")
                .add("queue position", 3)
                .renderRows();

        assertThat(text).isEqualTo("""
                state           QUEUED
                queue position  3
                """);
    }

    @Test
    void anEmptyTableIsItsHeader() {
        assertThat(new Table("A", "B").render()).isEqualTo("A  B\n");
    }

    @Test
    void refusesARowOfTheWrongLength() {
        assertThatThrownBy(() -> new Table("A", "B").add("only one")).isInstanceOf(IllegalArgumentException.class);
    }
}
