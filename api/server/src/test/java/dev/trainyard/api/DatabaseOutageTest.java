package dev.trainyard.api;

import static dev.trainyard.api.testing.ApiRequests.anonymous;
import static dev.trainyard.api.testing.ApiRequests.as;
import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.PostgresProxy;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL going away (issue 12: clients got 500 "token lookup failed"): every request is answered 503 with
 * Retry-After and a problem document, readiness turns red, and both recover when the database is back.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresProxy.class, restrictToAnnotatedClass = true)
class DatabaseOutageTest {

    @AfterEach
    void databaseBack() {
        PostgresProxy.running().restore();
    }

    @Test
    void whileTheDatabaseIsDownRequestsAre503WithRetryAfterAndReadinessIsDown() throws InterruptedException {
        String project = Fixtures.project();
        String pool = Fixtures.pool();
        // never used before the outage, so its lookup must ask the database
        Fixtures.Token member = Fixtures.member(project);
        anonymous().get("/q/health/ready").then().statusCode(200);

        PostgresProxy.running().cut();

        unavailable(as(member.secret()).get("/api/v1/jobs").then());
        unavailable(asAdmin()
                .body(Spec.gpt(project, pool).json())
                .post("/api/v1/jobs")
                .then());
        unavailable(asAdmin().get("/api/v1/pools").then());
        anonymous().get("/q/health/ready").then().statusCode(503).body("status", equalTo("DOWN"));

        PostgresProxy.running().restore();

        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (anonymous().get("/q/health/ready").statusCode() != 200
                && Instant.now().isBefore(deadline)) {
            Thread.sleep(200);
        }
        anonymous().get("/q/health/ready").then().statusCode(200);
        as(member.secret()).get("/api/v1/jobs").then().statusCode(200);
        assertThat(Fixtures.submit(Spec.gpt(project, pool))).isPositive();
    }

    private static void unavailable(ValidatableResponse response) {
        problem(response, 503).header("Retry-After", "5");
    }
}
