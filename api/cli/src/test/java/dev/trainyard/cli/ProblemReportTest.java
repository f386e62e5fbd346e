package dev.trainyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProblemReportTest {

    @Test
    void showsTitleDetailAndEachOffendingField() {
        String body = """
                {"type":"https://trainyard.dev/problems/validation-failed","title":"The request is not valid",
                 "status":400,"detail":"2 fields are not valid","instance":"/api/v1/jobs",
                 "errors":[{"field":"resources.gpus","message":"must be between 1 and 512"},
                           {"field":"model.heads","message":"must divide model.dModel (16)"}]}
                """;

        assertThat(ProblemReport.lines(400, body))
                .containsExactly(
                        "error: The request is not valid: 2 fields are not valid (HTTP 400)",
                        "  resources.gpus: must be between 1 and 512",
                        "  model.heads: must divide model.dModel (16)");
    }

    @Test
    void aProblemWithoutDetailOrErrorsIsOneLine() {
        assertThat(ProblemReport.lines(401, "{\"title\":\"A valid bearer token is required\",\"status\":401}"))
                .containsExactly("error: A valid bearer token is required (HTTP 401)");
    }

    @Test
    void aBodyThatIsNotAProblemIsShownByStatusAndItsStart() {
        assertThat(ProblemReport.lines(502, "<html>\n<body>Bad   gateway</body></html>"))
                .containsExactly("error: HTTP 502: <html> <body>Bad gateway</body></html>");
        assertThat(ProblemReport.lines(503, "")).containsExactly("error: HTTP 503");
        assertThat(ProblemReport.lines(500, "x".repeat(1000)).get(0)).hasSize("error: HTTP 500: ".length() + 303);
    }
}
