package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trainyard.system.support.Repository;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The multi-node setup in docker-compose.yml: valid for Compose (checked with docker-compose when it is
 * installed; there is no Docker engine in CI) and wired the way the README describes it.
 */
class ComposeFileTest {
    private static Path root;
    private static Map<String, Object> compose;
    private static Map<String, Object> services;

    @BeforeAll
    static void readComposeFile() throws IOException {
        root = Repository.root();
        // SnakeYAML resolves the file's anchors and merge keys (<<: *api) the way Compose does.
        compose = new Yaml().load(Files.readString(root.resolve("docker-compose.yml")));
        services = map(compose, "services");
    }

    @Test
    void dockerComposeAcceptsTheFileWithAndWithoutTheGpuProfile() throws Exception {
        assumeTrue(onPath("docker-compose"), "docker-compose is not installed (apt-get install docker-compose)");
        runCompose("config", "-q");
        runCompose("--profile", "gpu", "config", "-q");
    }

    @Test
    void describesTheDatabaseTwoApiReplicasAndTheRunners() {
        assertThat(services)
                .containsOnlyKeys("postgres", "api-1", "api-2", "runner-cpu-1", "runner-cpu-2", "runner-gpu");
        assertThat(map(compose, "volumes")).containsKeys("pgdata", "checkpoints");
        assertThat(strings(service("postgres"), "volumes")).anyMatch(v -> v.startsWith("pgdata:"));
    }

    @Test
    void bothApiReplicasUseTheSameDatabaseAndCheckpointsAndAnswerOnTheirOwnPorts() {
        Map<String, Object> first = service("api-1");
        Map<String, Object> second = service("api-2");
        for (Map<String, Object> api : List.of(first, second)) {
            Map<String, Object> env = map(api, "environment");
            assertThat(env.get("DB_URL")).isEqualTo("jdbc:postgresql://postgres:5432/trainyard");
            assertThat(strings(api, "volumes")).contains("checkpoints:" + env.get("TRAINYARD_CHECKPOINTS_DIRECTORY"));
            assertThat(map(map(api, "depends_on"), "postgres")).containsEntry("condition", "service_healthy");
        }
        assertThat(strings(first, "ports")).doesNotContainAnyElementsOf(strings(second, "ports"));
    }

    @Test
    void theApiAndTheDatabaseHaveHealthChecks() {
        for (String api : List.of("api-1", "api-2")) {
            assertThat(String.join(" ", strings(map(service(api), "healthcheck"), "test")))
                    .contains("/q/health/ready");
        }
        assertThat(String.join(" ", strings(map(service("postgres"), "healthcheck"), "test")))
                .contains("pg_isready");
    }

    @Test
    void cpuRunnersAlwaysStartAndTheGpuRunnerOnlyWithItsProfile() {
        assertThat(service("runner-cpu-1")).doesNotContainKey("profiles");
        assertThat(service("runner-cpu-2")).doesNotContainKey("profiles");
        Map<String, Object> gpu = service("runner-gpu");
        assertThat(strings(gpu, "profiles")).containsExactly("gpu");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> devices = (List<Map<String, Object>>)
                map(map(map(gpu, "deploy"), "resources"), "reservations").get("devices");
        assertThat(devices).singleElement().satisfies(d -> {
            assertThat(d).containsEntry("driver", "nvidia");
            assertThat(strings(d, "capabilities")).contains("gpu");
        });
    }

    @Test
    void runnersRunTheAgentAgainstAnApiReplicaOfThisFile() {
        for (String name : List.of("runner-cpu-1", "runner-cpu-2", "runner-gpu")) {
            List<String> command = strings(service(name), "command");
            assertThat(command).startsWith("agent").contains("--api", "--name", "--pool", "--devices");
            String api = command.get(command.indexOf("--api") + 1);
            assertThat(api).matches("http://api-[12]:8080");
            assertThat(services).containsKey(api.substring("http://".length(), api.lastIndexOf(':')));
        }
    }

    @Test
    void eachRunnerGetsATokenOfItsOwnThroughItsEnvironmentNeverItsCommandLine() {
        List<String> sources = new ArrayList<>();
        for (String name : List.of("runner-cpu-1", "runner-cpu-2", "runner-gpu")) {
            Map<String, Object> runner = service(name);
            assertThat(String.join(" ", strings(runner, "command")))
                    .as(name)
                    .doesNotContain("--token")
                    .doesNotContain("TOKEN");
            Object token = map(runner, "environment").get("TRAINYARD_RUNNER_TOKEN");
            assertThat(token).as(name).asString().matches("\\$\\{TRAINYARD_RUNNER_TOKEN_[A-Z0-9_]+:-}");
            sources.add(String.valueOf(token));
        }
        assertThat(sources).as("a runner token serves one runner").doesNotHaveDuplicates();
    }

    @Test
    void runnersAreGivenLongerToStopThanTheAgentsLeaveWindow() {
        // docker's default of 10 s would SIGKILL a runner while its attempts checkpoint (default window 25 s)
        for (String name : List.of("runner-cpu-1", "runner-cpu-2", "runner-gpu")) {
            String grace = String.valueOf(service(name).get("stop_grace_period"));
            assertThat(grace).as(name).matches("[0-9]+s");
            assertThat(Integer.parseInt(grace.substring(0, grace.length() - 1)))
                    .as(name)
                    .isGreaterThan(25);
        }
    }

    @Test
    void everyImageIsBuiltFromADockerfileOfThisRepository() {
        for (Map.Entry<String, Object> entry : services.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> service = (Map<String, Object>) entry.getValue();
            if (!service.containsKey("build")) {
                continue;
            }
            Map<String, Object> build = map(service, "build");
            Path dockerfile = root.resolve((String) build.get("context")).resolve((String) build.get("dockerfile"));
            assertThat(dockerfile).as(entry.getKey()).isRegularFile();
        }
        assertThat(root.resolve("api/server/src/main/docker/Dockerfile"))
                .content(StandardCharsets.UTF_8)
                .contains("COPY --chown=185 target/quarkus-app/lib/", "quarkus-run.jar", "/q/health/ready");
        assertThat(root.resolve("gpu-runner/src/main/docker/Dockerfile"))
                .content(StandardCharsets.UTF_8)
                .contains("COPY target/lib/", "COPY target/gpu-runner.jar", "OMP_WAIT_POLICY=PASSIVE");
    }

    private static Map<String, Object> service(String name) {
        return map(services, name);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        assertThat(value).as(key).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    private static List<String> strings(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        assertThat(value).as(key).isInstanceOf(List.class);
        List<String> out = new ArrayList<>();
        for (Object item : (List<?>) value) {
            out.add(String.valueOf(item));
        }
        return out;
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** Runs docker-compose on the file and fails, with what it printed, unless it exits with 0. */
    private static void runCompose(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker-compose", "-f", "docker-compose.yml"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .directory(root.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS))
                .as("docker-compose finished")
                .isTrue();
        assertThat(process.exitValue())
                .as("docker-compose %s:%n%s", command, output)
                .isZero();
    }
}
