package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Repository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code trainyard} command line as a user runs it: a real process against the real API and a real runner,
 * logged in through its config file, training a tiny GPT to the end and fetching what it produced.
 */
class CliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TINY_GPT = """
            {
              "name": "cli-tiny",
              "project": "demo",
              "resources": { "pool": "cpu", "gpus": 1 },
              "limits": { "maxRuntimeSeconds": 600, "maxRestarts": 1 },
              "model": { "type": "gpt", "layers": 1, "dModel": 16, "heads": 2, "seqLen": 8, "vocab": 128 },
              "data": { "type": "arithmetic", "seed": 3 },
              "training": { "steps": 20, "batchSize": 4, "learningRate": 0.003, "seed": 5, "evalEvery": 10 },
              "checkpoint": { "everySteps": 10, "keepLast": 2 }
            }
            """;

    @TempDir
    static Path home;

    private static Platform platform;
    private static Path config;

    @BeforeAll
    static void start() {
        platform = Platform.start("cli");
        platform.startRunner("cli-a", 1);
        config = home.resolve("trainyard/config.json");
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void trainsATinyJobEndToEndAndFetchesItsResults() throws Exception {
        Run login = login(Platform.ADMIN_TOKEN);
        assertThat(login.code()).as(login.toString()).isZero();
        assertThat(login.out()).contains("Logged in").contains("ADMIN");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config)))
                .isEqualTo("rw-------");

        Path spec = write("tiny.json", TINY_GPT);
        Run plan = cli("plan", spec.toString());
        assertThat(plan.code()).as(plan.toString()).isZero();
        assertThat(plan.out()).contains("chosen pool").contains("cpu");

        Run submit = cli("submit", spec.toString(), "--wait");
        assertThat(submit.code()).as(submit.toString()).isZero();
        assertThat(submit.out()).contains("SUCCEEDED").contains("step 20/20");
        assertThat(submit.err()).contains("Submitted job").contains("[");
        long id = Long.parseLong(submit.out().replaceAll("(?s)^Job (\\d+) .*", "$1"));

        Run ls = cli("ls");
        assertThat(ls.code()).isZero();
        assertThat(ls.out().lines().findFirst().orElseThrow()).startsWith("ID").contains("STATE");
        assertThat(ls.out()).containsPattern("(?m)^" + id + "\\s+cli-tiny\\s+demo\\s+SUCCEEDED");

        Run lsJson = cli("ls", "--json", "--state", "SUCCEEDED");
        assertThat(lsJson.code()).isZero();
        JsonNode page = JSON.readTree(lsJson.out());
        assertThat(page.path("items").get(0).path("id").asLong()).isEqualTo(id);
        assertThat(page.path("items").get(0).path("state").asText()).isEqualTo("SUCCEEDED");

        Run csv = cli("metrics", Long.toString(id), "--names", "loss", "--csv");
        assertThat(csv.code()).as(csv.toString()).isZero();
        List<String> rows = csv.out().lines().toList();
        assertThat(rows.get(0)).isEqualTo("step,loss");
        assertThat(rows.size()).isGreaterThan(5);
        assertThat(rows.get(rows.size() - 1)).matches("20,[0-9.]+");

        Run get = cli("get", Long.toString(id));
        assertThat(get.code()).isZero();
        assertThat(get.out()).containsPattern("(?m)^state\\s+SUCCEEDED$").containsPattern("(?m)^step\\s+20/20$");

        Run logs = cli("logs", Long.toString(id), "-f");
        assertThat(logs.code()).as("follows a finished job's log to its end").isZero();

        Run metrics = cli("metrics", Long.toString(id));
        assertThat(metrics.code()).isZero();
        assertThat(metrics.out()).containsPattern("(?m)^loss\\s+20\\s+[0-9.]+$");

        Run pools = cli("pools");
        assertThat(pools.out()).containsPattern("(?m)^cpu\\s+cpu\\s+\\$3\\.60\\s+1\\s+0\\s+1$");
        Run runners = cli("runners");
        assertThat(runners.out()).contains("cli-a").contains("ACTIVE");
        Run queue = cli("queue", "cpu");
        assertThat(queue.code()).isZero();
        assertThat(queue.out()).startsWith("POS");

        Run checkpoints = cli("checkpoints", Long.toString(id));
        assertThat(checkpoints.code()).isZero();
        assertThat(checkpoints.out()).containsPattern("(?m)^\\d+\\s+20\\s");

        Path file = home.resolve("latest.safetensors");
        Run download = cli("download", Long.toString(id), "-o", file.toString());
        assertThat(download.code()).as(download.toString()).isZero();
        String expected = platform.jobs().listJobCheckpoints(id).stream()
                .filter(c -> c.getStep() == 20)
                .findFirst()
                .orElseThrow()
                .getSha256();
        assertThat(sha256(file)).isEqualTo(expected);
        assertThat(download.out()).contains(expected).contains("verified");

        Path exported = home.resolve("model");
        Run export = cli("download", Long.toString(id), "--export", "-o", exported.toString());
        assertThat(export.code()).as(export.toString()).isZero();
        for (var f : platform.jobs().getJobExport(id).getFiles()) {
            assertThat(sha256(exported.resolve(f.getName()))).as(f.getName()).isEqualTo(f.getSha256());
        }
        assertThat(exported.resolve("model.safetensors")).exists();
        assertThat(exported.resolve("config.json")).exists();

        Run cancel = cli("cancel", Long.toString(id));
        assertThat(cancel.code()).as("conflict exit code").isEqualTo(5);
        assertThat(cancel.err()).contains("already ended").contains("SUCCEEDED").doesNotContain("Exception");
    }

    @Test
    void namesTheOffendingFieldOfABadSpec() throws Exception {
        assertThat(login(Platform.ADMIN_TOKEN).code()).isZero();
        Path spec = write("bad.json", TINY_GPT.replace("\"gpus\": 1", "\"gpus\": 0"));

        Run submit = cli("submit", spec.toString());

        assertThat(submit.code()).as(submit.toString()).isEqualTo(2);
        assertThat(submit.err()).contains("resources.gpus").doesNotContain("Exception");
        assertThat(submit.out()).isEmpty();
    }

    @Test
    void refusesAWrongTokenWithTheAuthExitCode() throws Exception {
        Run login = login("ty_not_a_real_token_at_all_00000000");
        assertThat(login.code()).as(login.toString()).isEqualTo(3);
        assertThat(login.err()).containsIgnoringCase("token");

        Map<String, String> env =
                Map.of("TRAINYARD_API", platform.baseUrl(), "TRAINYARD_TOKEN", "ty_not_a_real_token_at_all_00000000");
        Run ls = cli(env, "ls");
        assertThat(ls.code()).as(ls.toString()).isEqualTo(3);
        assertThat(ls.err()).startsWith("error: ");
    }

    private Run login(String token) throws Exception {
        return cli("login", "--api", platform.baseUrl(), "--token", token);
    }

    private Run cli(String... args) throws Exception {
        return cli(Map.of(), args);
    }

    /** Runs the built CLI jar as a user would, with its config file in the test's own directory. */
    private Run cli(Map<String, String> extraEnv, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", cliJar().toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(home, "out", ".txt");
        Path err = Files.createTempFile(home, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(home.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        Map<String, String> env = pb.environment();
        env.remove("TRAINYARD_API");
        env.remove("TRAINYARD_TOKEN");
        env.put("TRAINYARD_CONFIG", config.toString());
        env.putAll(extraEnv);
        Process p = pb.start();
        if (!p.waitFor(4, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(
                    "trainyard " + String.join(" ", args) + " did not end; stderr: " + Files.readString(err));
        }
        Run run = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        // a transcript for people to read what the command line shows (src/test/target/system-cli/)
        Files.writeString(
                platform.dir().resolve("cli-transcript.txt"),
                "$ trainyard " + String.join(" ", args) + "\n" + run + "\n",
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        return run;
    }

    private static Path cliJar() {
        Path jar = Repository.root().resolve("api/cli/target/trainyard.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: build first (./mvnw -DskipTests install)");
        }
        return jar;
    }

    private static Path write(String name, String text) throws IOException {
        return Files.writeString(home.resolve(name), text);
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    /** What one run of the command left: exit code, stdout and stderr. */
    record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }
}
