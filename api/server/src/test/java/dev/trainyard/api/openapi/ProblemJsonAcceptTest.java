package dev.trainyard.api.openapi;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/**
 * A client that accepts application/problem+json is never answered 406: the generated clients send exactly that
 * Accept for operations whose success has no body (deleteJobCheckpoints), and the document lists problem+json as
 * every operation's error answer.
 */
@QuarkusTest
class ProblemJsonAcceptTest {

    @Test
    void anOperationWithoutABodyAnswersAsIfAnythingWereAccepted() {
        problem(
                asAdmin()
                        .accept("application/problem+json")
                        .delete("/api/v1/jobs/999999/checkpoints")
                        .then(),
                404);
    }

    @Test
    void aJsonOperationStillAnswersItsJson() {
        asAdmin()
                .accept("application/problem+json")
                .get("/api/v1/me")
                .then()
                .statusCode(200)
                .contentType(startsWith("application/json"));
    }

    @Test
    void problemJsonAmongOtherTypesAndWithParametersCounts() {
        asAdmin()
                .accept("text/html, application/problem+json;q=0.5")
                .get("/api/v1/pools")
                .then()
                .statusCode(200)
                .contentType(startsWith("application/json"));
    }

    @Test
    void anAcceptWithoutProblemJsonIsStillNegotiated() {
        problem(asAdmin().accept("text/html").get("/api/v1/me").then(), 406);
    }
}
