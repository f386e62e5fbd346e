package dev.trainyard.api.auth;

import static dev.trainyard.api.testing.ApiRequests.anonymous;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;

import dev.trainyard.api.testing.ApiRequests;
import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Who may call what, for every endpoint: a table of endpoint x caller -> status. Everything targeted belongs
 * to project A; "own member" is a member of A, "other member" a member of B.
 */
@QuarkusTest
class AuthorizationMatrixTest {

    /** The callers of the table, from nobody to the admin. */
    enum Caller {
        NOBODY,
        MALFORMED_HEADER,
        UNKNOWN_TOKEN,
        RUNNER,
        OWN_MEMBER,
        OTHER_MEMBER,
        ADMIN
    }

    /** Projects, pool, tokens and targets shared by the table; mutating endpoints get fresh targets. */
    static final class World {
        final String projectA = Fixtures.project();
        final String projectB = Fixtures.project();
        final String pool = Fixtures.pool();
        final Fixtures.Token memberA = Fixtures.member(projectA);
        final Fixtures.Token memberB = Fixtures.member(projectB);
        final Fixtures.Token runner = Fixtures.runner();
        final long jobA = freshJob();
        final long runnerRow = Db.insertRunner(pool, 2, "ACTIVE");

        long freshFinishedJob() {
            long id = freshJob();
            Db.finish(id, "SUCCEEDED");
            return id;
        }

        long freshJob() {
            return Fixtures.submit(spec());
        }

        Spec spec() {
            return Spec.gpt(projectA, pool);
        }

        long freshToken() {
            return Fixtures.runner().id();
        }

        long freshRunner() {
            return Db.insertRunner(pool, 1, "ACTIVE");
        }

        /** Malformed Authorization headers, one per endpoint in turn so that each kind meets several endpoints. */
        private static final List<String> MALFORMED = List.of(
                "Basic YWRtaW46YWRtaW4=",
                "Bearer ",
                "Bearer",
                "Bearer " + "y".repeat(300),
                "Token " + ApiRequests.ADMIN,
                ApiRequests.ADMIN);

        private int malformedTurn;

        String authorization(Caller caller) {
            return switch (caller) {
                case NOBODY -> null;
                case MALFORMED_HEADER -> MALFORMED.get(malformedTurn++ % MALFORMED.size());
                case UNKNOWN_TOKEN -> "Bearer ty_" + "x".repeat(43);
                case RUNNER -> "Bearer " + runner.secret();
                case OWN_MEMBER -> "Bearer " + memberA.secret();
                case OTHER_MEMBER -> "Bearer " + memberB.secret();
                case ADMIN -> "Bearer " + ApiRequests.ADMIN;
            };
        }

        RequestSpecification request(Caller caller) {
            String authorization = authorization(caller);
            return authorization == null ? anonymous() : anonymous().header("Authorization", authorization);
        }
    }

    private static World world;

    private static synchronized World world() {
        if (world == null) {
            world = new World();
        }
        return world;
    }

    /** One endpoint: how to call it, and the status each of runner, own member, other member, admin gets. */
    record Endpoint(
            String operation,
            String method,
            Function<World, String> path,
            Function<World, Object> body,
            int runner,
            int ownMember,
            int otherMember,
            int admin,
            Kind kind) {

        int expected(Caller caller) {
            return switch (caller) {
                case NOBODY, MALFORMED_HEADER, UNKNOWN_TOKEN -> 401;
                case RUNNER -> runner;
                case OWN_MEMBER -> ownMember;
                case OTHER_MEMBER -> otherMember;
                case ADMIN -> admin;
            };
        }
    }

    private static Endpoint get(
            String operation, Function<World, String> path, int runner, int own, int other, int admin) {
        return new Endpoint(operation, "GET", path, w -> null, runner, own, other, admin, Kind.JSON);
    }

    private static Endpoint send(
            String operation,
            String method,
            Function<World, String> path,
            Function<World, Object> body,
            int runner,
            int own,
            int other,
            int admin) {
        return new Endpoint(operation, method, path, body, runner, own, other, admin, Kind.JSON);
    }

    /** A server-sent event stream: its 200 answer never ends, so only its head is read. */
    private static Endpoint stream(String operation, Function<World, String> path, int own, int other, int admin) {
        return new Endpoint(operation, "GET", path, w -> null, 403, own, other, admin, Kind.STREAM);
    }

    /** A runner-protocol endpoint: people are refused; a runner token is admitted (the protocol answers). */
    private static Endpoint runnerOnly(String operation, String method, String path, Object body) {
        return new Endpoint(
                operation,
                method,
                w -> path,
                w -> body,
                ADMITTED,
                403,
                403,
                403,
                body instanceof byte[] ? Kind.BYTES : Kind.JSON);
    }

    /** How an endpoint's body and answer travel. */
    enum Kind {
        JSON,
        BYTES,
        STREAM
    }

    /** Expected "neither 401 nor 403 nor a server error": the caller got past authorization. */
    static final int ADMITTED = 0;

    static final List<Endpoint> ENDPOINTS = List.of(
            send(
                    "createProject",
                    "POST",
                    w -> "/api/v1/projects",
                    w -> Map.of("name", Names.unique("p")),
                    403,
                    403,
                    403,
                    201),
            get("listProjects", w -> "/api/v1/projects", 403, 200, 200, 200),
            get("getProject", w -> "/api/v1/projects/" + w.projectA, 403, 200, 404, 200),
            send(
                    "updateProject",
                    "PATCH",
                    w -> "/api/v1/projects/" + w.projectA,
                    w -> Map.of("share", 1.5),
                    403,
                    403,
                    403,
                    200),
            send(
                    "createPool",
                    "POST",
                    w -> "/api/v1/pools",
                    w -> Map.of("name", Names.unique("pl"), "gpuType", "cpu", "pricePerGpuHour", 1),
                    403,
                    403,
                    403,
                    201),
            get("listPools", w -> "/api/v1/pools", 403, 200, 200, 200),
            get("getPool", w -> "/api/v1/pools/" + w.pool, 403, 200, 200, 200),
            send(
                    "updatePool",
                    "PATCH",
                    w -> "/api/v1/pools/" + w.pool,
                    w -> Map.of("pricePerGpuHour", 1.5),
                    403,
                    403,
                    403,
                    200),
            send(
                    "createToken",
                    "POST",
                    w -> "/api/v1/tokens",
                    w -> Map.of("name", Names.unique("t"), "role", "RUNNER"),
                    403,
                    403,
                    403,
                    201),
            get("listTokens", w -> "/api/v1/tokens", 403, 403, 403, 200),
            send("revokeToken", "DELETE", w -> "/api/v1/tokens/" + w.freshToken(), w -> null, 403, 403, 403, 200),
            get("whoAmI", w -> "/api/v1/me", 403, 200, 200, 200),
            send("submitJob", "POST", w -> "/api/v1/jobs", w -> w.spec().json(), 403, 201, 403, 201),
            send("planJob", "POST", w -> "/api/v1/jobs:plan", w -> w.spec().json(), 403, 200, 403, 200),
            get("listJobs", w -> "/api/v1/jobs", 403, 200, 200, 200),
            get("listJobs of project A", w -> "/api/v1/jobs?project=" + w.projectA, 403, 200, 404, 200),
            get("getJob", w -> "/api/v1/jobs/" + w.jobA, 403, 200, 404, 200),
            send("cancelJob", "POST", w -> "/api/v1/jobs/" + w.freshJob() + ":cancel", w -> null, 403, 200, 404, 200),
            get("listJobEvents", w -> "/api/v1/jobs/" + w.jobA + "/events", 403, 200, 404, 200),
            get("listRunners", w -> "/api/v1/runners", 403, 200, 200, 200),
            get("getRunner", w -> "/api/v1/runners/" + w.runnerRow, 403, 200, 200, 200),
            send(
                    "drainRunner",
                    "POST",
                    w -> "/api/v1/runners/" + w.freshRunner() + ":drain",
                    w -> null,
                    403,
                    403,
                    403,
                    200),
            get("listJobAttempts", w -> "/api/v1/jobs/" + w.jobA + "/attempts", 403, 200, 404, 200),
            get("getJobMetrics", w -> "/api/v1/jobs/" + w.jobA + "/metrics", 403, 200, 404, 200),
            get("getJobLogs", w -> "/api/v1/jobs/" + w.jobA + "/logs", 403, 200, 404, 200),
            get("listJobCheckpoints", w -> "/api/v1/jobs/" + w.jobA + "/checkpoints", 403, 200, 404, 200),
            send(
                    "deleteJobCheckpoints",
                    "DELETE",
                    w -> "/api/v1/jobs/" + w.freshFinishedJob() + "/checkpoints",
                    w -> null,
                    403,
                    204,
                    404,
                    204),
            get(
                    "downloadCheckpoint (no such checkpoint)",
                    w -> "/api/v1/jobs/" + w.jobA + "/checkpoints/987654321/content",
                    403,
                    404,
                    404,
                    404),
            get("getJobExport", w -> "/api/v1/jobs/" + w.jobA + "/export", 403, 200, 404, 200),
            get(
                    "downloadExportFile (not exported yet)",
                    w -> "/api/v1/jobs/" + w.jobA + "/export/model.safetensors",
                    403,
                    404,
                    404,
                    404),
            get("getPoolQueue", w -> "/api/v1/pools/" + w.pool + "/queue", 403, 200, 200, 200),
            stream("streamJob", w -> "/api/v1/jobs/" + w.jobA + "/stream", 200, 404, 200),
            stream("streamJobs", w -> "/api/v1/stream/jobs", 200, 200, 200),
            runnerOnly("registerRunner", "POST", "/api/v1/runner/register", Map.of()),
            runnerOnly("heartbeat", "POST", "/api/v1/runner/heartbeat", Map.of()),
            runnerOnly("startAttempt", "POST", "/api/v1/runner/attempts/987654321:start", Map.of()),
            runnerOnly("publishRendezvous", "POST", "/api/v1/runner/attempts/987654321:rendezvous", Map.of()),
            runnerOnly("reportMetrics", "POST", "/api/v1/runner/attempts/987654321/metrics", Map.of()),
            runnerOnly("reportLogs", "POST", "/api/v1/runner/attempts/987654321/logs", Map.of()),
            runnerOnly(
                    "uploadCheckpoint", "PUT", "/api/v1/runner/attempts/987654321/checkpoints/10", new byte[] {1, 2, 3
                    }),
            runnerOnly("getAttemptCheckpoint", "GET", "/api/v1/runner/attempts/987654321/checkpoints/10", null),
            runnerOnly(
                    "uploadExportFile",
                    "PUT",
                    "/api/v1/runner/attempts/987654321/export/model.safetensors",
                    new byte[] {1, 2, 3}),
            runnerOnly("endAttempt", "POST", "/api/v1/runner/attempts/987654321:end", Map.of()),
            runnerOnly("downloadCheckpointForResume", "GET", "/api/v1/runner/checkpoints/987654321/content", null));

    static Stream<Arguments> table() {
        List<Arguments> rows = new ArrayList<>();
        for (Endpoint e : ENDPOINTS) {
            for (Caller c : Caller.values()) {
                rows.add(Arguments.of(Named.of(e.operation() + " as " + c + " -> " + e.expected(c), e), c));
            }
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void callerGetsTheStatusTheTableSays(Endpoint endpoint, Caller caller) throws Exception {
        World w = world();
        String path = endpoint.path().apply(w);
        Object body = endpoint.body().apply(w);
        int expected = endpoint.expected(caller);
        if (endpoint.kind() == Kind.STREAM && expected == 200) {
            assertStreamOpens(path, w.authorization(caller));
            return;
        }
        RequestSpecification request = w.request(caller);
        if (body instanceof byte[] bytes) {
            request.contentType("application/octet-stream").body(bytes);
        } else if (body != null) {
            request.body(body);
        }

        var answer = request.request(endpoint.method(), path).then();

        if (expected == ADMITTED) {
            answer.statusCode(allOf(not(401), not(403), lessThan(500)));
        } else if (expected >= 400) {
            problem(answer, expected);
        } else {
            answer.statusCode(expected);
        }
    }

    /** Opens an event stream, checks its head, and hangs up without waiting for an end that never comes. */
    private static void assertStreamOpens(String path, String authorization) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(RestAssured.baseURI + ":" + RestAssured.port + path))
                .header("Authorization", authorization)
                .header("Accept", "text/event-stream")
                .GET()
                .build();
        HttpResponse<InputStream> response = HttpClient.newHttpClient()
                .sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
                .get(30, TimeUnit.SECONDS);
        try (InputStream ignored = response.body()) {
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(type -> assertThat(type).startsWith("text/event-stream"));
        }
    }

    @Test
    void tableCoversEveryOperationOfTheApi() {
        List<String> covered = ENDPOINTS.stream()
                .map(e -> e.operation().split(" ")[0])
                .distinct()
                .toList();
        // every documented operation is in the table, and the table names no operation that does not exist
        List<String> documented = asAdmin()
                .get("/q/openapi?format=json")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList(
                        "paths.collect { p -> p.value.collect { op -> op.value.operationId } }.flatten()",
                        String.class);

        assertThat(covered).containsExactlyInAnyOrderElementsOf(documented);
    }

    @Test
    void memberOfAnotherProjectCannotCancelAndTheJobStaysQueued() {
        World w = world();
        long job = w.freshJob();

        problem(
                w.request(Caller.OTHER_MEMBER)
                        .post("/api/v1/jobs/" + job + ":cancel")
                        .then(),
                404);

        assertThat(Db.queryString("select state from jobs where id = ?", job)).isEqualTo("QUEUED");
    }

    @Test
    void memberSeesOnlyItsOwnProjectsJobsInListings() {
        World w = world();
        long mine = w.freshJob();
        long theirs = Fixtures.submit(Spec.gpt(w.projectB, w.pool));

        List<Long> seen = w.request(Caller.OWN_MEMBER)
                .queryParam("limit", 200)
                .get("/api/v1/jobs")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("items.id", Long.class);

        assertThat(seen).contains(mine).doesNotContain(theirs);
        assertThat(Db.queryLong(
                        "select count(*) from jobs j join projects p on p.id = j.project_id where p.name <> ?"
                                + " and j.id = any (?)",
                        w.projectA,
                        seen.toArray(Long[]::new)))
                .isZero();
    }

    @Test
    void runnerTokenIsKeptOffPeopleEndpointsEvenWithAValidSpec() {
        long before = Db.jobCount();

        problem(
                world().request(Caller.RUNNER)
                        .body(world().spec().json())
                        .post("/api/v1/jobs")
                        .then(),
                403);

        assertThat(Db.jobCount()).isEqualTo(before);
    }
}
