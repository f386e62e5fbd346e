package dev.trainyard.api.streams;

import dev.trainyard.api.jobs.JobDetailViews;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The payloads of the stream events that exist only on streams, and the {@code x-sse-events} extension of the
 * two stream operations: per event name, the schema of its JSON {@code data}. OpenAPI 3.0 cannot describe a
 * text/event-stream's events, so the document lists them there (on the 200 answer, and in prose), referencing component schemas.
 */
final class StreamEvents {
    private StreamEvents() {}

    private static final String SCHEMAS = "#/components/schemas/";

    /** The events of {@code GET /jobs/{id}/stream}. */
    static final String JOB_EVENTS = "{\"job\": {\"$ref\": \"" + SCHEMAS + "Job\"},"
            + " \"event\": {\"$ref\": \"" + SCHEMAS + "JobEvent\"},"
            + " \"metrics\": {\"$ref\": \"" + SCHEMAS + "StreamMetrics\"},"
            + " \"log\": {\"type\": \"array\", \"items\": {\"$ref\": \"" + SCHEMAS + "JobLogLine\"}}}";

    /** The events of {@code GET /stream/jobs}. */
    static final String PLATFORM_EVENTS = "{\"transition\": {\"$ref\": \"" + SCHEMAS + "JobEvent\"},"
            + " \"job\": {\"$ref\": \"" + SCHEMAS + "Job\"},"
            + " \"progress\": {\"type\": \"array\", \"items\": {\"$ref\": \"" + SCHEMAS + "JobProgress\"}},"
            + " \"reload\": {\"$ref\": \"" + SCHEMAS + "StreamReload\"},"
            + " \"position\": {\"$ref\": \"" + SCHEMAS + "StreamPosition\"}}";

    /** What resuming a stream with {@code Last-Event-ID} means, for both operations' descriptions. */
    static final String RESUME = "Every event has an `id`. A client that reconnects with the last id it received,"
            + " as the `Last-Event-ID` header (what `EventSource` sends) or the `lastEventId` query parameter (the"
            + " header wins), resumes right after that event. Ids are opaque; a malformed id, or one of another"
            + " stream, is answered 400. The events and the JSON schema of each one's `data` are listed in"
            + " the 200 answer's `x-sse-events` (event name: schema).";

    /** Data of a {@code metrics} event: the new points of each metric, by metric name, in step order. */
    @Schema(
            name = "StreamMetrics",
            description = "New points by metric name, each list in step order",
            type = SchemaType.OBJECT,
            additionalProperties = MetricPoints.class)
    static final class Metrics {}

    /**
     * One metric's new points. A named schema rather than an inline array inside {@code additionalProperties}: the
     * client generators cannot name an inline one (openapi-generator warns "Failed to get the schema name").
     */
    @Schema(
            name = "MetricPoints",
            description = "Points of one metric, in step order",
            type = SchemaType.ARRAY,
            implementation = JobDetailViews.Point.class)
    static final class MetricPoints {}

    /** Data of a {@code reload} event. */
    @Schema(
            name = "StreamReload",
            description = "The stream could not resume where the client asked (the id is older than the window"
                    + " of 10000 job events, or from another installation): it goes on from now, and the client"
                    + " should read the jobs it shows again.")
    record Reload(
            @Schema(required = true, description = "Why the stream could not resume")
            String reason) {}

    /** Data of a {@code position} event: none; the event exists for its id. */
    @Schema(
            name = "StreamPosition",
            description = "No data (an empty object): the event carries only a newer id, after changes the caller"
                    + " may not see, so that resuming from it does not read them again")
    static final class Position {}

    /** The (empty) data of a {@code position} event. */
    static final Map<String, Object> NO_DATA = Map.of();
}
