package dev.trainyard.api.pools;

import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A pool's queue shows every member where each waiting job stands, but job names only of its own project. */
@QuarkusTest
class PoolQueuePrivacyTest {

    @Test
    void aMemberSeesItsOwnJobsNamesAndOnlyThePlaceOfOthers() {
        String pool = Fixtures.pool();
        String ours = Fixtures.project();
        String theirs = Fixtures.project();
        long ourJob = Fixtures.submit(Spec.gpt(ours, pool).set("name", "our-experiment"));
        long theirJob = Fixtures.submit(Spec.gpt(theirs, pool).set("name", "secret-acquisition-model"));

        Map<Long, String> memberView = names(as(Fixtures.member(ours).secret()), pool);
        assertThat(memberView).containsOnlyKeys(ourJob, theirJob);
        assertThat(memberView.get(ourJob)).isEqualTo("our-experiment");
        assertThat(memberView.get(theirJob)).isNull();

        Map<Long, String> adminView = names(asAdmin(), pool);
        assertThat(adminView)
                .containsEntry(ourJob, "our-experiment")
                .containsEntry(theirJob, "secret-acquisition-model");
    }

    private static Map<Long, String> names(io.restassured.specification.RequestSpecification as, String pool) {
        List<Map<String, Object>> entries = as.get("/api/v1/pools/" + pool + "/queue")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("$");
        Map<Long, String> names = new HashMap<>();
        for (Map<String, Object> e : entries) {
            names.put(((Number) e.get("jobId")).longValue(), (String) e.get("name"));
        }
        return names;
    }
}
