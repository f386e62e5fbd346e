package dev.trainyard.api.openapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed OpenAPI document passes the ecosystem's two linters, Spectral ({@code spectral:oas}, the repository's
 * {@code .spectral.yaml}) and Redocly, with no error; every rule that still warns is justified in
 * api/openapi/README.md, so a new kind of warning fails the build until it is fixed or explained there. The linters
 * are npm packages ({@code .ci/run} installs them); without npm the test is skipped.
 */
class OpenApiLintTest {
    static final String SPECTRAL = "@stoplight/spectral-cli@6.16.3";
    static final String REDOCLY = "@redocly/cli@2.77.0";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path document;
    private static Path root;

    @BeforeAll
    static void locate() {
        String configured = System.getProperty("contract.committed-openapi");
        document = (configured != null ? Path.of(configured) : Path.of("../openapi/openapi.yaml"))
                .toAbsolutePath()
                .normalize();
        root = document.getParent().getParent().getParent();
    }

    @Test
    void spectralFindsNoErrorAndOnlyJustifiedWarnings() throws Exception {
        Path report = Files.createTempFile("spectral", ".json");
        run(
                command("spectral", SPECTRAL, "6.16.3"),
                List.of(
                        "lint",
                        "--ruleset",
                        root.resolve(".spectral.yaml").toString(),
                        "--format",
                        "json",
                        "--output",
                        report.toString(),
                        "--fail-severity",
                        "error",
                        document.toString()));
        List<String> errors = new ArrayList<>();
        Map<String, Integer> warnings = new TreeMap<>();
        for (JsonNode problem : JSON.readTree(Files.readString(report))) {
            String rule = problem.path("code").asText();
            if (problem.path("severity").asInt() == 0) {
                errors.add(rule + " at " + problem.path("path") + ": "
                        + problem.path("message").asText());
            } else if (problem.path("severity").asInt() == 1) {
                warnings.merge(rule, 1, Integer::sum);
            }
        }
        System.out.println("Spectral: " + errors.size() + " errors, warnings by rule " + warnings);

        assertThat(errors).as("Spectral errors").isEmpty();
        assertJustified("Spectral", warnings);
    }

    @Test
    void redoclyFindsTheDocumentValidAndOnlyJustifiedWarnings() throws Exception {
        String out =
                run(command("redocly", REDOCLY, "2.77.0"), List.of("lint", "--format", "json", document.toString()));
        JsonNode result = JSON.readTree(out.substring(out.indexOf('{')));
        List<String> errors = new ArrayList<>();
        Map<String, Integer> warnings = new TreeMap<>();
        for (JsonNode problem : result.path("problems")) {
            String rule = problem.path("ruleId").asText();
            if ("error".equals(problem.path("severity").asText())) {
                errors.add(rule + ": " + problem.path("message").asText());
            } else if ("warn".equals(problem.path("severity").asText())) {
                warnings.merge(rule, 1, Integer::sum);
            }
        }
        System.out.println("Redocly: " + errors.size() + " errors, warnings by rule " + warnings);

        assertThat(errors).as("Redocly errors").isEmpty();
        assertJustified("Redocly", warnings);
    }

    /** Each warning's rule must be named in the README's list of accepted warnings, in backquotes. */
    private static void assertJustified(String linter, Map<String, Integer> warnings) throws IOException {
        String readme = Files.readString(document.resolveSibling("README.md"));
        List<String> unexplained = warnings.keySet().stream()
                .filter(rule -> !readme.contains("`" + rule + "`"))
                .toList();
        assertThat(unexplained)
                .as(linter
                        + " warns by rules that api/openapi/README.md does not justify: fix them or explain them there")
                .isEmpty();
    }

    /** The installed tool when it is the pinned version, else npx with the pinned package. */
    private static List<String> command(String bin, String pkg, String version) throws Exception {
        try {
            Process p = new ProcessBuilder(bin, "--version")
                    .redirectErrorStream(true)
                    .start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 && v.contains(version)) {
                return List.of(bin);
            }
        } catch (IOException notInstalled) {
            // fall through to npx
        }
        assumeTrue(
                onPath("npx"),
                "npm is not installed: the OpenAPI linters (" + pkg + ") cannot run; .ci/run installs them");
        return List.of("npx", "--yes", pkg);
    }

    private static boolean onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    private static String run(List<String> tool, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(tool);
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile());
        builder.environment().put("REDOCLY_TELEMETRY", "off");
        builder.environment().put("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true");
        builder.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES))
                .as(String.join(" ", command) + " finished")
                .isTrue();
        return out;
    }
}
