package dev.trainyard.api.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import dev.trainyard.api.testing.ContractValidation;
import org.junit.jupiter.api.Test;

/**
 * The check that every API test's exchanges pass through ({@link ContractValidation}) finds what the issue's
 * outside tools found: a JSON null the document does not allow, a status it does not list, and a refused shape.
 */
class ContractValidationTest {
    private static final String IDENTITY = "{\"tokenId\": 1, \"name\": \"admin\", \"role\": \"ADMIN\"%s}";

    @Test
    void anAnswerWithoutAbsentFieldsKeepsToTheDocument() {
        assertThat(ContractValidation.violations(
                        SimpleRequest.Builder.get("/api/v1/me")
                                .withAuthorization("Bearer t")
                                .build(),
                        json(200, IDENTITY.formatted(""))))
                .isEmpty();
    }

    @Test
    void aNullForAnAbsentFieldBreaksIt() {
        assertThat(ContractValidation.violations(
                        SimpleRequest.Builder.get("/api/v1/me")
                                .withAuthorization("Bearer t")
                                .build(),
                        json(200, IDENTITY.formatted(", \"project\": null"))))
                .anySatisfy(v -> assertThat(v).contains("/project"));
    }

    @Test
    void aSuccessTheOperationDoesNotListBreaksIt() {
        // only errors fall under "default", and those are problem documents
        assertThat(ContractValidation.violations(
                        SimpleRequest.Builder.delete("/api/v1/jobs/1/checkpoints")
                                .withAuthorization("Bearer t")
                                .build(),
                        json(200, "{}")))
                .anySatisfy(v -> assertThat(v).startsWith("validation.response."));
    }

    @Test
    void anAcceptedRequestTheDocumentRefusesBreaksIt() {
        SimpleRequest outOfRange = SimpleRequest.Builder.post("/api/v1/projects")
                .withContentType("application/json")
                .withAuthorization("Bearer t")
                .withBody("{\"name\": \"p\", \"share\": 5000}")
                .build();

        assertThat(ContractValidation.violations(
                        outOfRange,
                        json(
                                201,
                                "{\"id\": 1, \"name\": \"p\", \"spentUsd\": 0, \"share\": 5000,"
                                        + " \"createdAt\": \"2026-01-01T00:00:00Z\"}")))
                .anySatisfy(v -> assertThat(v).contains("/share"));
    }

    private static com.atlassian.oai.validator.model.Response json(int status, String body) {
        return SimpleResponse.Builder.status(status)
                .withContentType("application/json")
                .withBody(body)
                .build();
    }
}
