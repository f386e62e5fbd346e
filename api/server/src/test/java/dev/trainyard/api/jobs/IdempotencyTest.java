package dev.trainyard.api.jobs;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@QuarkusTest
class IdempotencyTest {

    private static ExtractableResponse<Response> submit(Spec spec, String key) {
        return asAdmin()
                .header("Idempotency-Key", key)
                .body(spec.json())
                .post("/api/v1/jobs")
                .then()
                .extract();
    }

    private static long rowsWithKey(String key) {
        return Db.queryLong("select count(*) from jobs where idempotency_key = ?", key);
    }

    @Test
    void sameKeyAndSameSpecReturnsTheFirstJobWith200() {
        Spec spec = Spec.gpt(Fixtures.project(), Fixtures.pool());
        String key = Names.unique("key");

        var first = submit(spec, key);
        var second = submit(spec, key);

        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.jsonPath().getLong("id")).isEqualTo(first.jsonPath().getLong("id"));
        assertThat(second.header("Location")).isEqualTo(first.header("Location"));
        assertThat(rowsWithKey(key)).isEqualTo(1);
    }

    @Test
    void sameKeyWithDefaultsWrittenOutIsTheSameSpec() {
        Spec spec = Spec.gpt(Fixtures.project(), Fixtures.pool());
        String key = Names.unique("key");
        long id = submit(spec, key).jsonPath().getLong("id");

        var retried = submit(spec.set("priority", "normal").set("training.batchSize", 16), key);

        assertThat(retried.statusCode()).isEqualTo(200);
        assertThat(retried.jsonPath().getLong("id")).isEqualTo(id);
    }

    @Test
    void sameKeyWithADifferentSpecIsRefusedAndStoresNothing() {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        String key = Names.unique("key");
        submit(Spec.gpt(project, pool), key);
        long before = Db.jobCount();

        problem(
                        asAdmin()
                                .header("Idempotency-Key", key)
                                .body(Spec.gpt(project, pool)
                                        .set("training.steps", 99)
                                        .json())
                                .post("/api/v1/jobs")
                                .then(),
                        422)
                .body("type", equalTo("/problems/idempotency-key-reused"));
        assertThat(Db.jobCount()).isEqualTo(before);
        assertThat(rowsWithKey(key)).isEqualTo(1);
    }

    @Test
    void sameKeyInAnotherProjectIsAnotherJob() {
        String pool = Fixtures.pool();
        String key = Names.unique("key");

        long a = submit(Spec.gpt(Fixtures.project(), pool), key).jsonPath().getLong("id");
        var b = submit(Spec.gpt(Fixtures.project(), pool), key);

        assertThat(b.statusCode()).isEqualTo(201);
        assertThat(b.jsonPath().getLong("id")).isNotEqualTo(a);
    }

    @Test
    void overlongKeyIsABadParameter() {
        long before = Db.jobCount();

        problem(
                        asAdmin()
                                .header("Idempotency-Key", "k".repeat(201))
                                .body(Spec.gpt(Fixtures.project(), Fixtures.pool())
                                        .json())
                                .post("/api/v1/jobs")
                                .then(),
                        400)
                .body("type", equalTo("/problems/bad-parameter"));
        assertThat(Db.jobCount()).isEqualTo(before);
    }

    /** Eight submissions with one key, released at once; returns each answer's status and job id (or null). */
    private static List<Map.Entry<Integer, Long>> raceOneKey(Spec spec, String key) throws Exception {
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<ExtractableResponse<Response>>> answers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                answers.add(pool.submit(() -> {
                    start.await();
                    return submit(spec, key);
                }));
            }
            start.countDown();
            List<Map.Entry<Integer, Long>> out = new ArrayList<>();
            for (var answer : answers) {
                var response = answer.get(60, TimeUnit.SECONDS);
                Long id = response.statusCode() < 300 ? response.jsonPath().getLong("id") : null;
                out.add(new AbstractMap.SimpleEntry<>(response.statusCode(), id));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentSubmissionsWithOneKeyStoreExactlyOneJob() throws Exception {
        Spec spec = Spec.gpt(Fixtures.project(), Fixtures.pool());
        String key = Names.unique("race");

        var answers = raceOneKey(spec, key);

        assertThat(rowsWithKey(key)).isEqualTo(1);
        assertThat(answers).filteredOn(a -> a.getKey() == 201).hasSizeLessThanOrEqualTo(1);
    }

    @Test
    void concurrentSubmissionsWithOneKeyAllGetTheOneJob() throws Exception {
        Spec spec = Spec.gpt(Fixtures.project(), Fixtures.pool());
        String key = Names.unique("race");

        var answers = raceOneKey(spec, key);

        assertThat(answers)
                .as("every retry gets the job, not an error")
                .allMatch(a -> a.getKey() == 200 || a.getKey() == 201);
        assertThat(answers).filteredOn(a -> a.getKey() == 201).hasSize(1);
        assertThat(answers.stream().map(Map.Entry::getValue).distinct())
                .hasSize(1)
                .doesNotContainNull();
    }
}
