package dev.trainyard.system.support;

import dev.trainyard.client.ApiClient;
import dev.trainyard.client.api.JobsApi;
import dev.trainyard.client.api.PoolsApi;
import dev.trainyard.client.api.ProjectsApi;
import dev.trainyard.client.api.RunnersApi;
import dev.trainyard.client.api.TokensApi;
import dev.trainyard.client.model.CreatePool;
import dev.trainyard.client.model.CreateProject;
import dev.trainyard.client.model.CreateToken;
import dev.trainyard.client.model.DataAccessPolicy;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.SeriesPoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A whole platform for one test class: a fresh database on a real PostgreSQL, the API as a real process, and
 * runner processes on demand. Set up through the generated client, as a program using Trainyard would.
 */
public final class Platform implements AutoCloseable {
    public static final String ADMIN_TOKEN = "ty_system_test_admin_token_0123456789";
    public static final String POOL = "cpu";
    public static final String PROJECT = "demo";

    private final String name;
    private final String dbUrl;
    private final Path dir;
    private final int port;
    private final Map<String, String> apiEnv = new HashMap<>();
    private final List<ManagedProcess> processes = new ArrayList<>();
    private final Map<String, Integer> runnerMetricsPorts = new HashMap<>();
    private final Map<String, String> runnerTokens = new HashMap<>();
    private ManagedProcess api;

    private Platform(String name, Map<String, String> extraEnv) {
        this.name = name;
        this.dbUrl = SystemDatabase.fresh("trainyard_sys_" + name);
        this.dir = emptied(Repository.output("system-" + name));
        this.port = freePort();
        apiEnv.put("DB_URL", dbUrl);
        apiEnv.put("PORT", Integer.toString(port));
        apiEnv.put("HOST", "127.0.0.1");
        apiEnv.put("TRAINYARD_ADMIN_TOKEN", ADMIN_TOKEN);
        apiEnv.put("TRAINYARD_CHECKPOINTS_DIRECTORY", dir.resolve("checkpoints").toString());
        apiEnv.put("TRAINYARD_RUNNERS_HEARTBEAT_TIMEOUT", "6s");
        apiEnv.put("TRAINYARD_SCHEDULER_INTERVAL", "300ms");
        apiEnv.putAll(extraEnv);
    }

    /**
     * Starts a platform with a project and a CPU pool (price 3.60 USD per device-hour; jobs may read files under
     * the platform's folder).
     */
    public static Platform start(String name) {
        return start(name, Map.of());
    }

    public static Platform start(String name, Map<String, String> extraEnv) {
        Platform p = new Platform(name, extraEnv);
        p.startApi();
        p.bootstrap();
        return p;
    }

    public void startApi() {
        api = track(new ManagedProcess(
                        "api",
                        List.of(java(), "-Xmx512m", "-jar", Repository.apiJar().toString()),
                        apiEnv,
                        dir.resolve("api.log"))
                .start());
        awaitReady(api, baseUrl(), Duration.ofSeconds(90));
    }

    public ManagedProcess api() {
        return api;
    }

    /** Starts another API replica on the same database and checkpoint store; returns its base URL. */
    public String startReplica() {
        int replicaPort = freePort();
        Map<String, String> env = new HashMap<>(apiEnv);
        env.put("PORT", Integer.toString(replicaPort));
        ManagedProcess replica = track(new ManagedProcess(
                        "api-replica",
                        List.of(java(), "-Xmx512m", "-jar", Repository.apiJar().toString()),
                        env,
                        dir.resolve("api-replica-" + replicaPort + ".log"))
                .start());
        String url = "http://127.0.0.1:" + replicaPort;
        awaitReady(replica, url, Duration.ofSeconds(90));
        return url;
    }

    /** Starts a runner process that offers {@code devices} CPU devices. */
    public ManagedProcess startRunner(String runnerName, int devices) {
        return startRunner(runnerName, devices, baseUrl());
    }

    /** Starts a runner process that talks to the API at {@code apiUrl}. */
    public ManagedProcess startRunner(String runnerName, int devices, String apiUrl) {
        return startRunner(runnerName, devices, apiUrl, List.of());
    }

    /** Starts a runner process with agent options of the test's choosing after the usual ones. */
    public ManagedProcess startRunner(String runnerName, int devices, String apiUrl, List<String> extraArgs) {
        int metricsPort = freePort();
        runnerMetricsPorts.put(runnerName, metricsPort);
        Map<String, String> env = new HashMap<>();
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        env.put("OPENBLAS_NUM_THREADS", "1");
        // the secret travels as a file, as ./run.sh passes it: never on the runner's command line
        Path tokenFile = dir.resolve("runner-" + runnerName + ".token");
        writeSecret(tokenFile, runnerToken(runnerName));
        List<String> command = new ArrayList<>(List.of(
                java(),
                "-Xmx512m",
                "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0",
                "-jar",
                Repository.runnerJar().toString(),
                "agent",
                "--api",
                apiUrl,
                "--token-file",
                tokenFile.toString(),
                "--pool",
                POOL,
                "--name",
                runnerName,
                "--host",
                "127.0.0.1",
                "--dp-timeout",
                "30",
                "--devices",
                Integer.toString(devices),
                "--metrics-port",
                Integer.toString(metricsPort),
                "--work-dir",
                dir.resolve("runner-" + runnerName).toString()));
        command.addAll(extraArgs);
        return track(
                new ManagedProcess("runner-" + runnerName, command, env, dir.resolve("runner-" + runnerName + ".log"))
                        .start());
    }

    /** Waits until the pool has at least {@code count} ACTIVE runners. */
    public void awaitActiveRunners(int count) {
        RunnersApi api = new RunnersApi(client(ADMIN_TOKEN));
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            long active = api.listRunners(POOL).stream()
                    .filter(r -> "ACTIVE".equals(r.getState()))
                    .count();
            if (active >= count) {
                return;
            }
            sleep(500);
        }
        throw new AssertionError(count + " runners did not register within 90 s");
    }

    /** The runner's own Prometheus endpoint. */
    public String runnerMetricsUrl(String runnerName) {
        return "http://127.0.0.1:" + runnerMetricsPorts.get(runnerName) + "/metrics";
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public String dbUrl() {
        return dbUrl;
    }

    public Path dir() {
        return dir;
    }

    /**
     * The runner token of the runner named {@code runnerName}, created on first use: a runner token serves one
     * runner, so each runner (real or simulated) gets its own, and a runner started again keeps it.
     */
    public synchronized String runnerToken(String runnerName) {
        return runnerTokens.computeIfAbsent(
                runnerName,
                n -> new TokensApi(client(ADMIN_TOKEN))
                        .createToken(
                                new CreateToken().name("runner-" + n).role(CreateToken.RoleEnum.fromValue("RUNNER")))
                        .getSecret());
    }

    /** A generated-client configuration with the given bearer token. */
    public ApiClient client(String token) {
        ApiClient client = new ApiClient();
        client.updateBaseUri(baseUrl());
        client.setReadTimeout(Duration.ofSeconds(60));
        client.setRequestInterceptor(b -> b.header("Authorization", "Bearer " + token));
        return client;
    }

    public JobsApi jobs() {
        return new JobsApi(client(ADMIN_TOKEN));
    }

    /** Every point of one of a job's metrics (up to 10,000), in step order, as the admin reads them. */
    public List<SeriesPoint> points(long jobId, String metric) {
        return jobs().getJobMetrics(jobId, null, metric, 10_000, null)
                .getSeries()
                .get(0)
                .getPoints();
    }

    /** Polls a job until the condition holds, failing with the job's last state after {@code timeout}. */
    public Job awaitJob(long id, Predicate<Job> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Job job = jobs().getJob(id);
        while (!condition.test(job)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("job " + id + " did not get there in " + timeout + "; it is " + job.getState()
                        + " at step " + job.getProgress().getStep() + " (" + job.getStateReason() + ")");
            }
            sleep(250);
            job = jobs().getJob(id);
        }
        return job;
    }

    private void bootstrap() {
        ApiClient admin = client(ADMIN_TOKEN);
        new ProjectsApi(admin).createProject(new CreateProject().name(PROJECT));
        new PoolsApi(admin)
                .createPool(new CreatePool()
                        .name(POOL)
                        .gpuType("cpu")
                        .pricePerGpuHour(new BigDecimal("3.60"))
                        .dataAccess(new DataAccessPolicy().dataRoots(List.of(dir.toString()))));
    }

    private void awaitReady(ManagedProcess process, String url, Duration timeout) {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.alive()) {
                throw new IllegalStateException("the API exited; see " + process.log());
            }
            try {
                HttpResponse<Void> r = http.send(
                        HttpRequest.newBuilder(URI.create(url + "/q/health/ready"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            sleep(250);
        }
        throw new IllegalStateException("the API did not get ready in " + timeout + "; see " + process.log());
    }

    private static void writeSecret(Path file, String secret) {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, secret);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ManagedProcess track(ManagedProcess p) {
        processes.add(p);
        return p;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Starts each run from an empty folder: files of an earlier run must not meet this run's attempt ids. */
    private static Path emptied(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder())
                    .filter(p -> !p.equals(dir))
                    .forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            processes.get(i).close();
        }
    }
}
