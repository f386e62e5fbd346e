package dev.trainyard.runner.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The agent's options as a supervisor sets them: parsed as picocli parses the real command line. */
class AgentCommandTest {

    @Test
    void theLeaveWindowIs25SecondsUnlessConfigured() {
        assertThat(parse().leaveWindow()).isEqualTo(Duration.ofSeconds(25));
        assertThat(parse("--leave-within", "90").leaveWindow()).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void aLeaveWindowOutsideItsRangeIsRefusedWithTheOptionsName() {
        for (String bad : new String[] {"0", "-5", "3601"}) {
            AgentCommand command = parse("--leave-within", bad);
            assertThatThrownBy(command::leaveWindow)
                    .isInstanceOf(CommandLine.ParameterException.class)
                    .hasMessageContaining("--leave-within")
                    .hasMessageContaining("TRAINYARD_RUNNER_LEAVE_WITHIN")
                    .hasMessageContaining(bad);
        }
    }

    private static AgentCommand parse(String... extra) {
        AgentCommand command = new AgentCommand();
        String[] args = new String[extra.length + 4];
        args[0] = "--api";
        args[1] = "http://127.0.0.1:1";
        args[2] = "--pool";
        args[3] = "p";
        System.arraycopy(extra, 0, args, 4, extra.length);
        new CommandLine(command).parseArgs(args);
        return command;
    }
}
