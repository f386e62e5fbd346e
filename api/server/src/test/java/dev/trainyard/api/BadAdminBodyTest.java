package dev.trainyard.api;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.hasItem;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Malformed bodies on the admin endpoints: a 400 problem naming the field, and nothing created or changed. */
@QuarkusTest
class BadAdminBodyTest {
    private static final String PROJECT = "__project__";
    private static final String POOL = "__pool__";
    private static String project;
    private static String pool;

    /** A bad request to one endpoint, and the field the problem must name (null when there is none). */
    record Case(String method, String path, String body, String field) {}

    private static Arguments bad(String name, String method, String path, String body, String field) {
        return Arguments.of(Named.of(name, new Case(method, path, body, field)));
    }

    static Stream<Arguments> cases() {
        String projects = "/api/v1/projects";
        String pools = "/api/v1/pools";
        String tokens = "/api/v1/tokens";
        return Stream.of(
                bad("createProject: malformed JSON", "POST", projects, "{\"name\":", null),
                bad("createProject: empty body", "POST", projects, "", null),
                bad("createProject: name is a number", "POST", projects, "{\"name\":5}", "name"),
                bad("createProject: unknown field", "POST", projects, "{\"name\":\"okname\",\"colour\":1}", "colour"),
                bad("createProject: zero share", "POST", projects, "{\"name\":\"okname\",\"share\":0}", "share"),
                bad(
                        "createProject: budget as a string",
                        "POST",
                        projects,
                        "{\"name\":\"okname\",\"budgetUsd\":\"10\"}",
                        "budgetUsd"),
                bad(
                        "updateProject: unlimited with a budget",
                        "PATCH",
                        projects + "/" + PROJECT,
                        "{\"unlimited\":true,\"budgetUsd\":5}",
                        "unlimited"),
                bad("updateProject: negative share", "PATCH", projects + "/" + PROJECT, "{\"share\":-1}", "share"),
                bad("updateProject: array body", "PATCH", projects + "/" + PROJECT, "[]", null),
                bad(
                        "createPool: empty gpuType",
                        "POST",
                        pools,
                        "{\"name\":\"okpool\",\"gpuType\":\"\",\"pricePerGpuHour\":1}",
                        "gpuType"),
                bad(
                        "createPool: absurd price",
                        "POST",
                        pools,
                        "{\"name\":\"okpool\",\"gpuType\":\"cpu\",\"pricePerGpuHour\":1000000}",
                        "pricePerGpuHour"),
                bad(
                        "createPool: upper-case name",
                        "POST",
                        pools,
                        "{\"name\":\"UPPER\",\"gpuType\":\"cpu\",\"pricePerGpuHour\":1}",
                        "name"),
                bad("updatePool: no price", "PATCH", pools + "/" + POOL, "{}", "pricePerGpuHour"),
                bad(
                        "updatePool: price as a word",
                        "PATCH",
                        pools + "/" + POOL,
                        "{\"pricePerGpuHour\":\"cheap\"}",
                        "pricePerGpuHour"),
                bad("createToken: empty name", "POST", tokens, "{\"name\":\"\",\"role\":\"RUNNER\"}", "name"),
                bad(
                        "createToken: project as a number",
                        "POST",
                        tokens,
                        "{\"name\":\"t\",\"role\":\"MEMBER\",\"project\":5}",
                        "project"),
                bad("createToken: role missing", "POST", tokens, "{\"name\":\"t\"}", "role"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void badBodyIsRefusedWithAProblemAndChangesNothing(Case c) {
        String path = c.path().replace(PROJECT, project()).replace(POOL, pool());
        String before = snapshot();

        var answer = asAdmin().body(c.body()).request(c.method(), path).then();

        problem(answer, 400);
        if (c.field() != null) {
            answer.body("errors.field", hasItem(c.field()));
        }
        assertThat(snapshot()).isEqualTo(before);
    }

    /** Everything a bad admin request could have changed. */
    private static String snapshot() {
        return Db.queryString("""
                select (select count(*) from projects) || '/' || (select count(*) from pools) || '/'
                    || (select count(*) from api_tokens) || '/'
                    || (select coalesce(string_agg(name || ':' || coalesce(budget_usd::text, '-') || ':' || share, ','
                                                   order by id), '') from projects) || '/'
                    || (select coalesce(string_agg(name || ':' || price_per_gpu_hour, ',' order by id), '') from pools)""");
    }

    private static synchronized String project() {
        if (project == null) {
            project = Fixtures.project();
        }
        return project;
    }

    private static synchronized String pool() {
        if (pool == null) {
            pool = Fixtures.pool();
        }
        return pool;
    }
}
