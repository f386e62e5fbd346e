package dev.trainyard.api.streams;

import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.auth.CurrentCaller;
import dev.trainyard.api.jobs.JobService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.extensions.Extension;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Server-sent event streams. Per job: {@code job} (the job when it changed), {@code event} (state transitions),
 * {@code metrics} (new points) and {@code log} (new lines). Platform-wide: {@code job} for every job whose state
 * changed, {@code progress} for running jobs, and {@code reload} / {@code position} for resuming. Every event
 * has an id; {@code Last-Event-ID} resumes after it. Each works across replicas through database notifications.
 */
@Path("/api/v1")
@Tag(name = "streams")
@SecurityRequirement(name = "bearer")
public class StreamResource {
    private final LiveStreams streams;
    private final StreamQueries queries;
    private final JobService jobs;
    private final CurrentCaller current;

    public StreamResource(LiveStreams streams, StreamQueries queries, JobService jobs, CurrentCaller current) {
        this.streams = streams;
        this.queries = queries;
        this.jobs = jobs;
        this.current = current;
    }

    @GET
    @Path("/jobs/{id: [0-9]+}/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Blocking
    @APIResponse(
            responseCode = "200",
            description = "An endless text/event-stream; its events are listed in x-sse-events",
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(type = SchemaType.STRING)),
            extensions = @Extension(name = "x-sse-events", value = StreamEvents.JOB_EVENTS, parseValue = true))
    @Operation(
            operationId = "streamJob",
            summary = "Live job changes, events, metrics and logs (text/event-stream)",
            description = "Events: `job` (the job, first and whenever it changed), `event` (one state transition),"
                    + " `metrics` (new points by metric name) and `log` (new log lines). A new stream starts with"
                    + " everything the job has; a resumed one with what followed the given event, each point and"
                    + " line exactly once. "
                    + StreamEvents.RESUME)
    public Multi<OutboundSseEvent> streamJob(
            @PathParam("id") long id,
            @Parameter(description = "The id of the last event received: resume right after it")
                    @HeaderParam("Last-Event-ID")
                    String lastEventIdHeader,
            @Parameter(description = "Same as the Last-Event-ID header, for clients that cannot set headers")
                    @QueryParam("lastEventId")
                    String lastEventIdQuery,
            @Context Sse sse) {
        Caller caller = current.get();
        QuarkusTransaction.requiringNew().run(() -> jobs.visible(caller, id));
        String lastEventId = lastEventId(lastEventIdHeader, lastEventIdQuery);
        JobPosition position = JobPosition.start(id);
        if (lastEventId != null) {
            position = JobPosition.parse(lastEventId, id);
            queries.checkReached(position);
        }
        JobPosition from = position;
        return Multi.createFrom().emitter(emitter -> {
            JobStream stream = new JobStream(caller, from, queries, sse, emitter);
            emitter.onTermination(() -> streams.remove(stream));
            streams.add(stream);
        });
    }

    @GET
    @Path("/stream/jobs")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Blocking
    @APIResponse(
            responseCode = "200",
            description = "An endless text/event-stream; its events are listed in x-sse-events",
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(type = SchemaType.STRING)),
            extensions = @Extension(name = "x-sse-events", value = StreamEvents.PLATFORM_EVENTS, parseValue = true))
    @Operation(
            operationId = "streamJobs",
            summary = "Live state changes and progress of every visible job",
            description = "Events: `transition` (one state transition of a visible job, in the order they"
                    + " happened), `job` (a visible job whose state changed, at its latest state, after its"
                    + " transitions), `progress` (steps and cost of the running jobs), `reload` (the stream could"
                    + " not resume: read the jobs again) and `position` (no data, only a newer id). A new stream"
                    + " starts now; a resumed one first delivers every transition of a visible job after the given"
                    + " event, as long as at most 10000 job events happened since (otherwise it sends `reload`). "
                    + StreamEvents.RESUME)
    public Multi<OutboundSseEvent> streamJobs(
            @Parameter(description = "The id of the last event received: resume right after it")
                    @HeaderParam("Last-Event-ID")
                    String lastEventIdHeader,
            @Parameter(description = "Same as the Last-Event-ID header, for clients that cannot set headers")
                    @QueryParam("lastEventId")
                    String lastEventIdQuery,
            @Context Sse sse) {
        Caller caller = current.get();
        String lastEventId = lastEventId(lastEventIdHeader, lastEventIdQuery);
        // taken now, not at the first refresh: a job submitted right after the client saw the stream open is news
        EventCursor cursor = null;
        String reload = null;
        if (lastEventId != null) {
            EventCursor resumed = EventCursor.parse(lastEventId)
                    .orElseThrow(() -> JobPosition.invalid("is not an event id of the platform stream"));
            cursor = queries.resumable(resumed).orElse(null);
            reload = cursor == null ? "the event id is outside the stream's window" : null;
        }
        EventCursor from = cursor != null ? cursor : queries.cursorNow();
        String reloadReason = reload;
        return Multi.createFrom().emitter(emitter -> {
            PlatformStream stream = new PlatformStream(caller, from, reloadReason, queries, sse, emitter);
            emitter.onTermination(() -> streams.remove(stream));
            streams.add(stream);
        });
    }

    /** The header (what EventSource sends when it reconnects, so the newer one) or else the query parameter. */
    private static String lastEventId(String header, String query) {
        String id = header != null && !header.isBlank() ? header : query;
        return id == null || id.isBlank() ? null : id.strip();
    }
}
