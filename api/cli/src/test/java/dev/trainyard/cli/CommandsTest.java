package dev.trainyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Whole commands in process against a fake API: what they print and the exit codes scripts rely on. */
class CommandsTest {
    private static final String PROBLEM_409 = """
            {"type":"https://trainyard.dev/problems/invalid-state","title":"The resource is not in a state that allows this",
             "status":409,"detail":"Job 7 has already ended (SUCCEEDED) and cannot be cancelled"}""";

    @TempDir
    Path dir;

    private FakeApi api;
    private ConfigStore store;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void start() throws Exception {
        api = new FakeApi();
        store = new ConfigStore(dir.resolve("config.json"), Map.of());
        store.save(new CliConfig(api.url() + "/", "good"));
    }

    @AfterEach
    void stop() {
        api.close();
    }

    @Test
    void aConflictPrintsTheProblemAndExitsFive() {
        api.json("POST /api/v1/jobs/7:cancel", 409, PROBLEM_409);

        assertThat(run("cancel", "7")).isEqualTo(5);
        assertThat(err.toString())
                .isEqualTo("error: The resource is not in a state that allows this: Job 7 has already"
                        + " ended (SUCCEEDED) and cannot be cancelled (HTTP 409)\n");
        assertThat(api.requests).containsExactly("POST /api/v1/jobs/7:cancel Bearer good");
    }

    @Test
    void notFoundExitsFourAndAuthThree() {
        api.json("GET /api/v1/jobs/99", 404, "{\"title\":\"Not found\",\"status\":404,\"detail\":\"No job 99\"}");
        api.json("GET /api/v1/pools", 401, "{\"title\":\"A valid bearer token is required\",\"status\":401}");

        assertThat(run("get", "99")).isEqualTo(4);
        assertThat(run("pools")).isEqualTo(3);
        assertThat(err.toString()).contains("No job 99").contains("bearer token");
    }

    @Test
    void usageErrorsExitTwoAndAMissingLoginThree() {
        assertThat(run("get", "not-a-number")).isEqualTo(2);
        assertThat(run("frobnicate")).isEqualTo(2);

        store = new ConfigStore(dir.resolve("nobody.json"), Map.of());
        assertThat(run("ls")).isEqualTo(3);
        assertThat(err.toString()).contains("not logged in");
    }

    @Test
    void anUnreachableApiExitsOne() {
        store.save(new CliConfig("http://127.0.0.1:1", "good"));

        assertThat(run("pools")).isEqualTo(1);
        assertThat(err.toString()).startsWith("error: cannot reach the API");
    }

    @Test
    void lsFollowsPagesUpToTheLimitAndTellsHowToContinue() {
        api.json(
                "GET /api/v1/jobs?limit=3",
                200,
                "{\"items\":[" + job(3, "c", "RUNNING") + "," + job(2, "b", "QUEUED") + "],\"nextCursor\":\"p2\"}");
        api.json(
                "GET /api/v1/jobs?cursor=p2&limit=1",
                200,
                "{\"items\":[" + job(1, "a", "SUCCEEDED") + "],\"nextCursor\":\"p3\"}");

        assertThat(run("ls", "--limit", "3")).isZero();

        assertThat(out.toString().lines()).hasSize(4);
        assertThat(out.toString())
                .containsPattern("(?m)^ID\\s+NAME\\s+PROJECT\\s+STATE")
                .containsPattern("(?m)^3\\s+c\\s+demo\\s+RUNNING\\s+cpu\\s+1\\s+5/20\\s+\\$0\\.0100");
        assertThat(err.toString()).contains("trainyard ls --cursor p3");
    }

    @Test
    void jsonPrintsTheAnswerInTheContractsFieldNames() throws Exception {
        api.json("GET /api/v1/jobs/3", 200, job(3, "c", "RUNNING"));

        assertThat(run("get", "3", "--json")).isZero();

        var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toString());
        assertThat(node.path("id").asLong()).isEqualTo(3);
        assertThat(node.path("progress").path("totalSteps").asLong()).isEqualTo(20);
        assertThat(node.path("submittedAt").asText()).startsWith("2026-01-01T00:00");
    }

    @Test
    void planShowsTheLayoutThatFitsWhenTheRequestedOneDoesNot() throws Exception {
        String specJson = """
                {"name": "c", "resources": {"pool": "gpus", "gpus": 1},
                 "model": {"type": "gpt", "layers": 4, "dModel": 1024, "heads": 8, "seqLen": 8},
                 "data": {"type": "arithmetic"}, "training": {"steps": 20}}""";
        Path spec = Files.writeString(dir.resolve("p.json"), specJson);
        api.json(
                "POST /api/v1/jobs:plan",
                200,
                "{\"spec\":" + specJson + ",\"pools\":[],\"parameterCount\":50600000,\"stages\":1,"
                        + "\"memoryPerStageBytes\":[812000000],\"memoryPerDeviceBytes\":812000000,"
                        + "\"proposal\":{\"pool\":\"gpus\",\"tensorParallel\":1,\"stages\":2,\"dataParallel\":1,"
                        + "\"zero\":0,\"gpus\":2,\"perDeviceBytes\":406000000},\"warnings\":[]}");

        assertThat(run("plan", spec.toString())).isZero();

        assertThat(out.toString())
                .contains("memory on the fullest device")
                .contains("layout that fits")
                .contains("pool gpus: tensorParallel 1, stages 2, dataParallel 1, zero 0, gpus 2");
    }

    @Test
    void submitWaitFollowsTheJobAndExitsWithItsFinalState() throws Exception {
        Path spec = Files.writeString(dir.resolve("s.json"), """
                {"name": "c", "resources": {"pool": "cpu", "gpus": 1},
                 "model": {"type": "gpt", "layers": 1, "dModel": 16, "heads": 2, "seqLen": 8},
                 "data": {"type": "arithmetic"}, "training": {"steps": 20}}""");
        api.json("POST /api/v1/jobs", 201, job(3, "c", "QUEUED"));
        api.json("GET /api/v1/jobs/3", 200, job(3, "c", "RUNNING"));
        api.json("GET /api/v1/jobs/3", 200, job(3, "c", "FAILED"));
        api.json(
                "GET /api/v1/jobs/3/metrics?fromStep=4&names=loss&points=2",
                200,
                "{\"jobId\":3,\"available\":[\"loss\"],\"series\":[{\"name\":\"loss\",\"points\":[{\"step\":4,\"value\":2.75},"
                        + "{\"step\":5,\"value\":2.5}]}]}");

        assertThat(run("submit", spec.toString(), "--wait")).isEqualTo(1);

        assertThat(out.toString())
                .startsWith("Job 3 (c) FAILED after")
                .contains("step 5/20")
                .contains("loss 2.5000");
        assertThat(err.toString())
                .contains("Submitted job 3")
                .contains("RUNNING   [######")
                .contains("loss 2.5000");
    }

    @Test
    void downloadVerifiesTheChecksumBeforeKeepingTheFile() throws Exception {
        byte[] bytes = "safetensors bytes".getBytes(StandardCharsets.UTF_8);
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        api.json(
                "GET /api/v1/jobs/3/checkpoints",
                200,
                "[" + checkpoint(11, 10, sha) + "," + checkpoint(12, 20, sha) + ","
                        + checkpoint(13, 5, "00" + sha.substring(2)) + "]");
        api.answer(
                "GET /api/v1/jobs/3/checkpoints/12/content",
                new FakeApi.Answer(200, "application/octet-stream", bytes));
        api.answer(
                "GET /api/v1/jobs/3/checkpoints/13/content",
                new FakeApi.Answer(200, "application/octet-stream", bytes));

        Path latest = dir.resolve("latest.safetensors");
        assertThat(run("download", "3", "-o", latest.toString())).isZero();
        assertThat(Files.readAllBytes(latest)).isEqualTo(bytes);
        assertThat(out.toString()).contains("checkpoint 12 (step 20)").contains(sha + " verified");

        Path corrupt = dir.resolve("corrupt.safetensors");
        assertThat(run("download", "3", "13", "-o", corrupt.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("checksum mismatch");
        assertThat(corrupt).doesNotExist();
        assertThat(dir.resolve("corrupt.safetensors.part")).doesNotExist();
    }

    @Test
    void downloadOfAShardedCheckpointSavesEveryShardVerifiedWithItsManifestIntoAFolder() throws Exception {
        byte[] zero = "shard zero".getBytes(StandardCharsets.UTF_8);
        byte[] one = "shard one".getBytes(StandardCharsets.UTF_8);
        String shaZero =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(zero));
        String shaOne =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(one));
        api.json("GET /api/v1/jobs/3/checkpoints", 200, """
                [{"id":12,"jobId":3,"attemptId":1,"step":20,"sizeBytes":19,"sha256":"%s","createdAt":"2026-01-01T00:00:00Z",
                  "shardCount":2,"complete":true,"shards":[{"shard":0,"sizeBytes":10,"sha256":"%s"},
                  {"shard":1,"sizeBytes":9,"sha256":"%s"}]}]""".formatted("ab".repeat(32), shaZero, shaOne));
        api.answer(
                "GET /api/v1/jobs/3/checkpoints/12/content?shard=0",
                new FakeApi.Answer(200, "application/octet-stream", zero));
        api.answer(
                "GET /api/v1/jobs/3/checkpoints/12/content?shard=1",
                new FakeApi.Answer(200, "application/octet-stream", one));

        Path folder = dir.resolve("sharded");
        assertThat(run("download", "3", "-o", folder.toString())).isZero();

        assertThat(Files.readAllBytes(folder.resolve("step-00000020.shard-0-of-2.safetensors")))
                .isEqualTo(zero);
        assertThat(Files.readAllBytes(folder.resolve("step-00000020.shard-1-of-2.safetensors")))
                .isEqualTo(one);
        assertThat(Files.readString(folder.resolve("step-00000020.shard-1-of-2.manifest.json")))
                .contains("\"sha256\":\"" + shaOne + "\"")
                .contains("\"bytes\":9");
        assertThat(out.toString()).contains("2 shards").contains("each shard's SHA-256 verified");
    }

    @Test
    void downloadExportSavesEveryExportFileVerifiedIntoAFolder() throws Exception {
        byte[] weights = "weights".getBytes(StandardCharsets.UTF_8);
        byte[] config = "{\"model\":{}}".getBytes(StandardCharsets.UTF_8);
        api.json(
                "GET /api/v1/jobs/3/export",
                200,
                "{\"jobId\":3,\"files\":[" + exportFile("config.json", config) + ","
                        + exportFile("model.safetensors", weights) + "]}");
        api.answer(
                "GET /api/v1/jobs/3/export/config.json", new FakeApi.Answer(200, "application/octet-stream", config));
        api.answer(
                "GET /api/v1/jobs/3/export/model.safetensors",
                new FakeApi.Answer(200, "application/octet-stream", weights));
        api.json("GET /api/v1/jobs/4/export", 200, "{\"jobId\":4,\"files\":[]}");

        Path folder = dir.resolve("model");
        assertThat(run("download", "3", "--export", "-o", folder.toString())).isZero();
        assertThat(Files.readAllBytes(folder.resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(Files.readAllBytes(folder.resolve("config.json"))).isEqualTo(config);
        assertThat(out.toString()).contains("Saved model.safetensors of job 3").contains("verified");

        assertThat(run("download", "4", "--export")).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(err.toString()).contains("no export yet");
        assertThat(run("download", "3", "12", "--export")).isEqualTo(ExitCodes.USAGE);
    }

    private static String exportFile(String name, byte[] bytes) throws Exception {
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        return "{\"name\":\"%s\",\"attemptId\":1,\"sizeBytes\":%d,\"sha256\":\"%s\",\"createdAt\":\"2026-01-01T00:00:00Z\"}"
                .formatted(name, bytes.length, sha);
    }

    @Test
    void loginChecksTheTokenBeforeStoringIt() {
        api.json("GET /api/v1/me", 200, "{\"tokenId\":1,\"name\":\"alice\",\"role\":\"MEMBER\",\"project\":\"demo\"}");
        store = new ConfigStore(dir.resolve("fresh/config.json"), Map.of());

        assertThat(run("login", "--api", api.url(), "--token", "ty_alice")).isZero();

        assertThat(out.toString()).contains("as alice (MEMBER, project demo)");
        assertThat(store.load()).isEqualTo(new CliConfig(api.url(), "ty_alice"));
    }

    private int run(String... args) {
        CommandLine cl = TrainyardCli.commandLine(store, Duration.ofMillis(10));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private static String job(long id, String name, String state) {
        return """
                {"id":%d,"name":"%s","project":"demo","state":"%s","priority":"normal","pool":"cpu","gpus":1,"minGpus":1,
                 "cancelRequested":false,"progress":{"step":5,"totalSteps":20},"cost":{"accruedUsd":0.01},"restarts":0,
                 "maxRestarts":3,"submittedAt":"2026-01-01T00:00:00Z","spec":{"name":"%s","resources":{"gpus":1},
                 "model":{"type":"gpt","layers":1,"dModel":16,"heads":2,"seqLen":8},"data":{"type":"arithmetic"},
                 "training":{"steps":20}}}""".formatted(id, name, state, name);
    }

    private static String checkpoint(long id, long step, String sha) {
        return """
                {"id":%d,"jobId":3,"attemptId":1,"step":%d,"sizeBytes":17,"sha256":"%s","createdAt":"2026-01-01T00:00:00Z"}""".formatted(id, step, sha);
    }
}
