package dev.trainyard.runner.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.trainyard.client.model.Device;
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

    static final long HOST = 16L << 30;

    @Test
    void cpuDevicesReportTheHostsMemoryUnlessTheRunnerIsGivenLess() {
        assertThat(parse("--devices", "2").devices(0, HOST))
                .extracting(Device::getName, Device::getMemoryBytes)
                .containsExactly(tuple("cpu:0", HOST), tuple("cpu:1", HOST));
        assertThat(parse("--devices", "2", "--cpu-memory", "3g").devices(0, HOST))
                .extracting(Device::getMemoryBytes)
                .containsExactly(3L << 30, 3L << 30);
        assertThat(parse("--cpu-memory", "1536MiB").devices(0, HOST))
                .extracting(Device::getMemoryBytes)
                .containsExactly(1536L << 20);
        assertThat(parse("--cpu-memory", "1000000").devices(0, 0))
                .as("a host whose memory is unknown takes the configured amount as given")
                .extracting(Device::getMemoryBytes)
                .containsExactly(1_000_000L);
    }

    @Test
    void aCpuMemoryThatIsNoSizeOrMoreThanTheHostHasIsRefused() {
        for (String bad : new String[] {"0", "-1", "2x", "1.5g", "9999999999t", "" + (HOST + 1)}) {
            AgentCommand command = parse("--cpu-memory", bad);
            assertThatThrownBy(() -> command.devices(0, HOST))
                    .as(bad)
                    .isInstanceOf(CommandLine.ParameterException.class)
                    .hasMessageContaining("--cpu-memory");
        }
    }

    @Test
    void aCudaDeviceWhoseMemoryCannotBeReadReportsNoneRatherThanTheHosts() {
        // on this CPU build libtorch sees no CUDA device, so the probe has no figure: the device says so
        assertThat(parse("--cpu-memory", "1g").devices(1, HOST))
                .extracting(Device::getKind, Device::getMemoryBytes)
                .containsExactly(tuple("cuda", null));
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
