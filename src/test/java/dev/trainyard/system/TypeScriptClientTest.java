package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trainyard.system.support.Repository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The committed contract also makes a usable TypeScript client: the build (api/cli, exec execution
 * "typescript-client") generates one with typescript-fetch and strict spec validation and keeps the generator's
 * log; this test checks the result, and type-checks it when the build could install the TypeScript compiler
 * from the local npm cache (no network at test time).
 */
class TypeScriptClientTest {
    private static final Path CLI_TARGET = Repository.root().resolve("api/cli/target");
    private static final Path GENERATED = CLI_TARGET.resolve("generated-ts");

    @Test
    void generatesTheClientForEveryTagAndModel() {
        assertThat(GENERATED)
                .as("build api/cli first (./mvnw -DskipTests install)")
                .isDirectory();
        assertThat(GENERATED.resolve("apis/JobsApi.ts")).isRegularFile();
        assertThat(GENERATED.resolve("apis/PoolsApi.ts")).isRegularFile();
        assertThat(GENERATED.resolve("models/Job.ts")).isRegularFile();
        assertThat(GENERATED.resolve("models/JobSpec.ts")).isRegularFile();
        assertThat(GENERATED.resolve("models/Problem.ts")).isRegularFile();
        assertThat(GENERATED.resolve("runtime.ts")).isRegularFile();
    }

    @Test
    void generatorReportsNoWarningsAboutTheContract() throws IOException {
        Path log = CLI_TARGET.resolve("generated-ts.log");
        assertThat(log).isRegularFile();
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).as("the generator ran to the end").anyMatch(l -> l.startsWith("generated "));
        assertThat(lines).as("the generator's log is captured").anyMatch(l -> l.contains("INFO"));
        assertThat(lines)
                .filteredOn(l -> l.contains("WARN") || l.contains("ERROR"))
                .isEmpty();
    }

    @Test
    void generatedClientTypeChecks() throws Exception {
        Path tsc = CLI_TARGET.resolve("ts-tools/node_modules/.bin/tsc");
        assumeTrue(Files.isExecutable(tsc), "tsc was not installed by the build (typescript not in the npm cache)");
        Path output = Files.createTempFile("tsc", ".log");
        Process p = new ProcessBuilder(
                        tsc.toString(),
                        "--noEmit",
                        "--strict",
                        "--target",
                        "es2019",
                        "--lib",
                        "es2019,dom",
                        "--module",
                        "commonjs",
                        "--moduleResolution",
                        "node",
                        "index.ts")
                .directory(GENERATED.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("tsc ends").isTrue();
        assertThat(p.exitValue()).as(Files.readString(output)).isZero();
    }
}
