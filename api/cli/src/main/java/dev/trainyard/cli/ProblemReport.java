package dev.trainyard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns an error answer of the API into lines for people: the problem's title and detail, then each offending
 * field with its message. Answers that are not problem+json are shown by status and the start of their body.
 */
public final class ProblemReport {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 300;

    private ProblemReport() {}

    public static List<String> lines(int status, String body) {
        JsonNode problem = parse(body);
        if (problem == null || !problem.hasNonNull("title")) {
            return List.of("error: HTTP " + status + (body == null || body.isBlank() ? "" : ": " + shorten(body)));
        }
        List<String> lines = new ArrayList<>();
        String title = problem.path("title").asText();
        String detail = problem.path("detail").asText("");
        lines.add("error: " + title + (detail.isBlank() || detail.equals(title) ? "" : ": " + detail) + " (HTTP "
                + problem.path("status").asInt(status) + ")");
        for (JsonNode violation : problem.path("errors")) {
            lines.add("  " + violation.path("field").asText("?") + ": "
                    + violation.path("message").asText(""));
        }
        return lines;
    }

    private static JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(body);
            return node.isObject() ? node : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String shorten(String body) {
        String oneLine = body.strip().replaceAll("\\s+", " ");
        return oneLine.length() > MAX_BODY ? oneLine.substring(0, MAX_BODY) + "..." : oneLine;
    }
}
