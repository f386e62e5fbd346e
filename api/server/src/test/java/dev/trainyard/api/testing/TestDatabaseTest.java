package dev.trainyard.api.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The URL handling of the test database resource: where the server is, and which database to create. */
class TestDatabaseTest {

    @ParameterizedTest
    @CsvSource({
        "jdbc:postgresql://127.0.0.1:5432/trainyard_test, jdbc:postgresql://127.0.0.1:5432/, trainyard_test",
        "jdbc:postgresql://db.internal:6543/other?sslmode=disable, jdbc:postgresql://db.internal:6543/, other",
        "jdbc:postgresql://localhost/x, jdbc:postgresql://localhost/, x",
    })
    void splitsAJdbcUrlIntoServerAndDatabase(String url, String base, String database) {
        assertThat(TestDatabase.baseOf(url)).isEqualTo(base);
        assertThat(TestDatabase.databaseOf(url)).isEqualTo(database);
    }

    @Test
    void serverUrlPrintedByRunShKeepsOnlyTheServerPart() {
        assertThat(TestDatabase.baseOf("jdbc:postgresql://127.0.0.1:55432"))
                .isEqualTo("jdbc:postgresql://127.0.0.1:55432/");
        assertThat(TestDatabase.baseOf("jdbc:postgresql://127.0.0.1:55432/postgres"))
                .isEqualTo("jdbc:postgresql://127.0.0.1:55432/");
    }

    @Test
    void refusesUrlsThatAreNotPostgres() {
        assertThatThrownBy(() -> TestDatabase.baseOf("jdbc:h2:mem:x"))
                .hasMessageContaining("Not a PostgreSQL JDBC URL");
        assertThatThrownBy(() -> TestDatabase.databaseOf("jdbc:postgresql://h:1/"))
                .hasMessageContaining("names no database");
    }
}
