package dev.trainyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ExitCodesTest {

    @ParameterizedTest
    @CsvSource({"400,2", "422,2", "401,3", "403,3", "404,4", "409,5", "500,1", "502,1"})
    void eachErrorStatusHasItsExitCode(int status, int exitCode) {
        assertThat(ExitCodes.forStatus(status)).isEqualTo(exitCode);
    }

    @ParameterizedTest
    @CsvSource({"SUCCEEDED,0", "FAILED,1", "CANCELLED,2", "BUDGET_EXHAUSTED,2"})
    void aFollowedJobExitsWithItsFinalState(String state, int exitCode) {
        assertThat(ExitCodes.forFinalState(state)).isEqualTo(exitCode);
    }
}
