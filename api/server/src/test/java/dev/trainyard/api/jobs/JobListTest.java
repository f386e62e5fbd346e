package dev.trainyard.api.jobs;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@QuarkusTest
class JobListTest {

    @Test
    void pagesWalkEveryJobNewestFirstWithoutDuplicatesOrGaps() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        List<Long> submitted = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            submitted.add(Fixtures.submit(Spec.gpt(project, pool).set("name", "paged-" + i)));
        }

        JsonPath first = page(project, null);
        JsonPath second = page(project, first.getString("nextCursor"));
        JsonPath third = page(project, second.getString("nextCursor"));

        List<Long> seen = new ArrayList<>();
        seen.addAll(first.getList("items.id", Long.class));
        seen.addAll(second.getList("items.id", Long.class));
        seen.addAll(third.getList("items.id", Long.class));
        assertThat(first.getList("items")).hasSize(3);
        assertThat(second.getList("items")).hasSize(3);
        assertThat(third.getList("items")).hasSize(1);
        assertThat(third.getString("nextCursor")).isNull();
        assertThat(seen)
                .isEqualTo(submitted.stream().sorted(Comparator.reverseOrder()).toList());
    }

    private static JsonPath page(String project, String cursor) {
        var request = asAdmin().queryParam("project", project).queryParam("limit", 3);
        if (cursor != null) {
            request.queryParam("cursor", cursor);
        }
        return request.get("/api/v1/jobs").then().statusCode(200).extract().jsonPath();
    }

    @Test
    void stateFilterShowsOnlyJobsInThatState() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        long queued = Fixtures.submit(Spec.gpt(project, pool));
        long cancelled = Fixtures.submit(Spec.gpt(project, pool));
        asAdmin().post("/api/v1/jobs/" + cancelled + ":cancel").then().statusCode(200);

        assertThat(ids("project", project, "state", "CANCELLED")).containsExactly(cancelled);
        assertThat(ids("project", project, "state", "queued")).containsExactly(queued);
    }

    @Test
    void projectFilterShowsOnlyThatProjectsJobs() {
        String pool = Fixtures.pool();
        String mine = Fixtures.project();
        String other = Fixtures.project();
        long a = Fixtures.submit(Spec.gpt(mine, pool));
        Fixtures.submit(Spec.gpt(other, pool));

        assertThat(ids("project", mine)).containsExactly(a);
    }

    @Test
    void poolFilterShowsOnlyThatPoolsJobs() {
        String project = Fixtures.project();
        String small = Fixtures.pool();
        String large = Fixtures.pool();
        long inSmall = Fixtures.submit(Spec.gpt(project, small));
        Fixtures.submit(Spec.gpt(project, large));

        assertThat(ids("pool", small)).containsExactly(inSmall);
    }

    @Test
    void nameFilterMatchesPartOfTheNameIgnoringCase() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        long large = Fixtures.submit(Spec.gpt(project, pool).set("name", "ResNet-Large"));
        long small = Fixtures.submit(Spec.gpt(project, pool).set("name", "resnet-small"));
        Fixtures.submit(Spec.gpt(project, pool).set("name", "bert"));

        assertThat(ids("project", project, "name", "RESNET")).containsExactly(small, large);
        assertThat(ids("project", project, "name", "net-l")).containsExactly(large);
    }

    @Test
    void nameFilterTakesPercentLiterally() {
        String project = Fixtures.project();
        Fixtures.submit(Spec.gpt(project, Fixtures.pool()).set("name", "resnet"));

        assertThat(ids("project", project, "name", "%25")).isEmpty(); // "%" is in no name
    }

    @Test
    void nameFilterTakesUnderscoreLiterally() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        long underscored = Fixtures.submit(Spec.gpt(project, pool).set("name", "resnet_large"));
        Fixtures.submit(Spec.gpt(project, pool).set("name", "resnetXlarge"));

        assertThat(ids("project", project, "name", "net_l")).containsExactly(underscored);
    }

    @Test
    void lastPageHasNoCursor() {
        String project = Fixtures.project();
        Fixtures.submit(Spec.gpt(project, Fixtures.pool()));

        asAdmin()
                .queryParam("project", project)
                .get("/api/v1/jobs")
                .then()
                .statusCode(200)
                .body("items.size()", equalTo(1))
                .body("nextCursor", nullValue());
    }

    @Test
    void unknownPoolOrProjectFilterIsNotFound() {
        problem(
                asAdmin()
                        .queryParam("pool", "no-such-pool-x")
                        .get("/api/v1/jobs")
                        .then(),
                404);
        problem(
                asAdmin()
                        .queryParam("project", "no-such-project-x")
                        .get("/api/v1/jobs")
                        .then(),
                404);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
        "limit, 0",
        "limit, -1",
        "limit, 201",
        "state, BOGUS",
        "cursor, garbage!!",
        "cursor, bm90LWEtY3Vyc29y", // base64 of "not-a-cursor"
        "cursor, ajp4eXo", // base64 of "j:xyz"
    })
    void badQueryParameterIsABadRequest(String parameter, String value) {
        problem(asAdmin().queryParam(parameter, value).get("/api/v1/jobs").then(), 400);
    }

    @ParameterizedTest(name = "limit={0}")
    @CsvSource({"abc", "2.5", "99999999999"})
    void nonIntegerLimitIsABadRequest(String value) {
        problem(asAdmin().queryParam("limit", value).get("/api/v1/jobs").then(), 400);
    }

    @Test
    void cursorsThatDecodeToJunkAreStillBadRequests() {
        String junk = Base64.getUrlEncoder().withoutPadding().encodeToString("j:".getBytes(StandardCharsets.UTF_8));
        problem(asAdmin().queryParam("cursor", junk).get("/api/v1/jobs").then(), 400)
                .body("type", equalTo("/problems/bad-parameter"));
    }

    private static List<Long> ids(String... filters) {
        var request = asAdmin();
        for (int i = 0; i < filters.length; i += 2) {
            request.queryParam(filters[i], filters[i + 1]);
        }
        return request.get("/api/v1/jobs")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("items.id", Long.class);
    }
}
