package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.client.ApiException;
import dev.trainyard.client.api.JobsApi;
import dev.trainyard.client.api.PoolsApi;
import dev.trainyard.client.api.ProjectsApi;
import dev.trainyard.client.api.RunnerProtocolApi;
import dev.trainyard.client.api.RunnersApi;
import dev.trainyard.client.api.StreamsApi;
import dev.trainyard.client.api.TokensApi;
import dev.trainyard.client.model.AttemptCall;
import dev.trainyard.client.model.AttemptEnd;
import dev.trainyard.client.model.CreatePool;
import dev.trainyard.client.model.CreateProject;
import dev.trainyard.client.model.CreateToken;
import dev.trainyard.client.model.Device;
import dev.trainyard.client.model.Heartbeat;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.LogBatch;
import dev.trainyard.client.model.LogLine;
import dev.trainyard.client.model.MetricPoint;
import dev.trainyard.client.model.MetricsBatch;
import dev.trainyard.client.model.RegisterRunner;
import dev.trainyard.client.model.Rendezvous;
import dev.trainyard.client.model.RunnerRegistration;
import dev.trainyard.client.model.UpdatePool;
import dev.trainyard.client.model.UpdateProject;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.io.File;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every operation of the Java client generated from the committed document, called once against the running
 * server: each either succeeds or, where the test asks about something that does not exist, fails with the
 * documented problem answer, which the client reads as an {@link ApiException}. No call may fail in the client
 * itself (a 406 for its Accept header, a body it cannot read). A new operation fails the test until it is called
 * here.
 */
class EveryClientOperationTest {
    /** Answered as event streams that stay open; their events are the streams tests' concern. */
    private static final Set<String> STREAMS = Set.of("streamJob", "streamJobs");

    static Platform platform;
    private final Set<String> called = new TreeSet<>();

    @BeforeAll
    static void start() {
        platform = Platform.start("everyop");
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void everyOperationAnswersAsDocumented() throws Exception {
        var admin = platform.client(Platform.ADMIN_TOKEN);
        PoolsApi pools = new PoolsApi(admin);
        ProjectsApi projects = new ProjectsApi(admin);
        TokensApi tokens = new TokensApi(admin);
        RunnersApi runners = new RunnersApi(admin);
        JobsApi jobs = new JobsApi(admin);

        ok(
                "createPool",
                () -> pools.createPool(
                        new CreatePool().name("every-op").gpuType("cpu").pricePerGpuHour(new BigDecimal("1.5"))));
        ok("listPools", pools::listPools);
        ok("getPool", () -> pools.getPool("every-op"));
        ok("updatePool", () -> pools.updatePool("every-op", new UpdatePool().pricePerGpuHour(new BigDecimal("2"))));
        ok("getPoolQueue", () -> pools.getPoolQueue("every-op"));

        ok("createProject", () -> projects.createProject(new CreateProject().name("every-op")));
        ok("listProjects", projects::listProjects);
        ok("getProject", () -> projects.getProject("every-op"));
        ok("updateProject", () -> projects.updateProject("every-op", new UpdateProject().share(2.0)));

        String memberSecret = ok(
                        "createToken",
                        () -> tokens.createToken(new CreateToken()
                                .name("every-op")
                                .role(CreateToken.RoleEnum.MEMBER)
                                .project("every-op")))
                .getSecret();
        ok("whoAmI", () -> new TokensApi(platform.client(memberSecret)).whoAmI());
        long tokenId = ok("listTokens", tokens::listTokens).stream()
                .filter(t -> "every-op".equals(t.getName()))
                .findFirst()
                .orElseThrow()
                .getId();
        ok("revokeToken", () -> tokens.revokeToken(tokenId));

        // the runner protocol, as a runner would call it, about an attempt that does not exist
        RunnerProtocolApi runner = new RunnerProtocolApi(platform.client(platform.runnerToken("every-op")));
        RunnerRegistration registration = ok(
                "registerRunner",
                () -> runner.registerRunner(new RegisterRunner()
                        .name("every-op")
                        .host("127.0.0.1")
                        .pool("every-op")
                        .devices(List.of(new Device().index(0).kind("cpu").name("cpu0")))));
        ok("heartbeat", () -> runner.heartbeat(new Heartbeat().runnerId(registration.getRunnerId())));
        long noAttempt = 999_999;
        refused("startAttempt", () -> runner.startAttempt(noAttempt, new AttemptCall().leaseToken("none")));
        refused(
                "reportMetrics",
                () -> runner.reportMetrics(
                        noAttempt,
                        new MetricsBatch()
                                .leaseToken("none")
                                .points(List.of(
                                        new MetricPoint().step(1L).name("loss").value(1.0)))));
        refused(
                "reportLogs",
                () -> runner.reportLogs(
                        noAttempt,
                        new LogBatch()
                                .leaseToken("none")
                                .lines(List.of(
                                        new LogLine().at(OffsetDateTime.now()).line("hello")))));
        refused(
                "publishRendezvous",
                () -> runner.publishRendezvous(
                        noAttempt,
                        new Rendezvous().leaseToken("none").host("127.0.0.1").port(29500)));
        File upload = Files.writeString(Files.createTempFile("every-op", ".bin"), "not a checkpoint")
                .toFile();
        refused(
                "uploadCheckpoint",
                () -> runner.uploadCheckpoint(noAttempt, 1L, upload, null, null, null, null, "none"));
        refused("getAttemptCheckpoint", () -> runner.getAttemptCheckpoint(noAttempt, 1L, "none"));
        refused("downloadCheckpointForResume", () -> runner.downloadCheckpointForResume(noAttempt, "none", null));
        refused(
                "uploadExportFile",
                () -> runner.uploadExportFile(noAttempt, "config.json", upload, "0".repeat(64), "none"));
        refused(
                "endAttempt",
                () -> runner.endAttempt(
                        noAttempt, new AttemptEnd().leaseToken("none").outcome("FAILED")));

        ok("listRunners", () -> runners.listRunners(null));
        ok("getRunner", () -> runners.getRunner(registration.getRunnerId()));
        ok("drainRunner", () -> runners.drainRunner(registration.getRunnerId()));

        ok("planJob", () -> jobs.planJob(Specs.tinyGpt("every-op", 1, 20, 10)));
        Job job = ok("submitJob", () -> jobs.submitJob(Specs.tinyGpt("every-op", 1, 20, 10), null));
        ok("listJobs", () -> jobs.listJobs(null, 10, null, null, null, null));
        ok("getJob", () -> jobs.getJob(job.getId()));
        ok("listJobAttempts", () -> jobs.listJobAttempts(job.getId()));
        ok("listJobEvents", () -> jobs.listJobEvents(job.getId()));
        ok("getJobLogs", () -> jobs.getJobLogs(job.getId(), null, null));
        ok("getJobMetrics", () -> jobs.getJobMetrics(job.getId(), null, null, null, null));
        ok("listJobCheckpoints", () -> jobs.listJobCheckpoints(job.getId()));
        refused("downloadCheckpoint", () -> jobs.downloadCheckpoint(noAttempt, job.getId(), null, null));
        // a job that has not succeeded has no export yet: an empty listing, and no file to download
        ok("getJobExport", () -> jobs.getJobExport(job.getId()));
        refused("downloadExportFile", () -> jobs.downloadExportFile(job.getId(), "model.safetensors"));
        ok("cancelJob", () -> jobs.cancelJob(job.getId()));
        // the generated client sends Accept: application/problem+json here, which was answered 406
        ok("deleteJobCheckpoints", () -> {
            jobs.deleteJobCheckpoints(job.getId());
            return null;
        });

        assertThat(called).as("operations called").containsAll(operations()).hasSameSizeAs(operations());
    }

    /** Every operation the generated client has, by method name, less the two event streams. */
    private static Set<String> operations() {
        Set<String> names = new TreeSet<>();
        for (Class<?> api : List.of(
                JobsApi.class,
                PoolsApi.class,
                ProjectsApi.class,
                RunnerProtocolApi.class,
                RunnersApi.class,
                StreamsApi.class,
                TokensApi.class)) {
            for (Method m : api.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers())
                        && !m.getName().endsWith("WithHttpInfo")
                        && !m.getName().equals("downloadFileFromResponse")
                        && !m.getName().endsWith("ApiClient")
                        && !STREAMS.contains(m.getName())) {
                    names.add(m.getName());
                }
            }
        }
        return names;
    }

    private interface Call<T> {
        T run() throws Exception;
    }

    private <T> T ok(String operation, Call<T> call) throws Exception {
        called.add(operation);
        try {
            return call.run();
        } catch (ApiException e) {
            throw new AssertionError(operation + " answered " + e.getCode() + ": " + e.getResponseBody(), e);
        }
    }

    /** The call must reach the server and come back as a documented 4xx problem, not a client-side failure. */
    private void refused(String operation, Call<?> call) {
        called.add(operation);
        try {
            call.run();
        } catch (ApiException e) {
            assertThat(e.getCode())
                    .as(operation + " status")
                    .isBetween(400, 499)
                    .isNotEqualTo(406);
            assertThat(e.getResponseHeaders().firstValue("content-type"))
                    .as(operation + " answers a problem document")
                    .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
            return;
        } catch (Exception e) {
            throw new AssertionError(operation + " failed in the client: " + e, e);
        }
        throw new AssertionError(operation + " about an attempt that does not exist succeeded");
    }
}
