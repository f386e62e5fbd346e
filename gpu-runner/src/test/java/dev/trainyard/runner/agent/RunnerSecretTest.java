package dev.trainyard.runner.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The agent's secret stays off its command line: it comes from a file or the environment, never from argv. */
class RunnerSecretTest {
    @TempDir
    Path dir;

    final List<String> warnings = new ArrayList<>();

    @Test
    void aTokenFileIsReadAndTrimmedAndWinsOverTheEnvironment() throws Exception {
        Path file = secretFile("ty_from_file\n", "rw-------");

        assertThat(RunnerSecret.resolve(null, file, Map.of(RunnerSecret.ENV, "ty_from_env"), warnings::add))
                .isEqualTo("ty_from_file");
        assertThat(warnings).isEmpty();
    }

    @Test
    void withoutAFileTheEnvironmentVariableIsUsed() {
        assertThat(RunnerSecret.resolve(null, null, Map.of(RunnerSecret.ENV, " ty_from_env "), warnings::add))
                .isEqualTo("ty_from_env");
    }

    @Test
    void aTokenOnTheCommandLineIsRefusedEvenWhenAnotherSourceExists() {
        assertThatThrownBy(() ->
                        RunnerSecret.resolve("ty_visible", null, Map.of(RunnerSecret.ENV, "ty_env"), warnings::add))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--token is refused")
                .hasMessageContaining(RunnerSecret.ENV)
                .hasMessageContaining("--token-file");
    }

    @Test
    void noTokenAnEmptyFileOrAMissingFileIsSaidPlainly() throws Exception {
        assertThatThrownBy(() -> RunnerSecret.resolve(null, null, Map.of(), warnings::add))
                .hasMessageContaining("No runner token");
        Path empty = secretFile("\n", "rw-------");
        assertThatThrownBy(() -> RunnerSecret.resolve(null, empty, Map.of(), warnings::add))
                .hasMessageContaining("exactly one token");
        assertThatThrownBy(() -> RunnerSecret.resolve(null, dir.resolve("absent"), Map.of(), warnings::add))
                .hasMessageContaining("Cannot read the token file");
    }

    @Test
    void aTokenFileOthersMayReadIsUsedWithAWarning() throws Exception {
        Path file = secretFile("ty_shared", "rw-r--r--");

        assertThat(RunnerSecret.resolve(null, file, Map.of(), warnings::add)).isEqualTo("ty_shared");
        assertThat(warnings).singleElement().asString().contains("readable by others");
    }

    @Test
    void theAgentRefusesATokenArgumentBeforeItStartsAnything() {
        CommandLine cli = new CommandLine(new AgentCommand());
        cli.setErr(new java.io.PrintWriter(new java.io.StringWriter()));

        int code = cli.execute("--api", "http://127.0.0.1:9", "--pool", "cpu", "--token", "ty_visible");

        assertThat(code).isEqualTo(2);
        assertThat(cli.getHelp().fullSynopsis()).doesNotContain("--token ").contains("--token-file");
    }

    private Path secretFile(String content, String mode) throws Exception {
        Path file = dir.resolve("token-" + mode);
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }
}
