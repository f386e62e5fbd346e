package dev.trainyard.api.streams;

import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.auth.CurrentCaller;
import dev.trainyard.api.jobs.JobService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Server-sent event streams. Per job: {@code job} (the job when it changed), {@code event} (state transitions),
 * {@code metrics} (new points) and {@code log} (new lines). Platform-wide: {@code job} for every job whose state
 * changed and {@code progress} for running jobs. Each works across replicas through database notifications.
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
            description = "An endless text/event-stream",
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(type = SchemaType.STRING)))
    @Operation(operationId = "streamJob", summary = "Live job changes, events, metrics and logs (text/event-stream)")
    public Multi<OutboundSseEvent> streamJob(@PathParam("id") long id, @Context Sse sse) {
        Caller caller = current.get();
        QuarkusTransaction.requiringNew().run(() -> jobs.visible(caller, id));
        return Multi.createFrom().emitter(emitter -> {
            JobStream stream = new JobStream(caller, id, queries, sse, emitter);
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
            description = "An endless text/event-stream",
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(type = SchemaType.STRING)))
    @Operation(operationId = "streamJobs", summary = "Live state changes and progress of every visible job")
    public Multi<OutboundSseEvent> streamJobs(@Context Sse sse) {
        Caller caller = current.get();
        // taken now, not at the first refresh: a job submitted right after the client saw the stream open is news
        EventCursor cursor = queries.cursorNow();
        return Multi.createFrom().emitter(emitter -> {
            PlatformStream stream = new PlatformStream(caller, cursor, queries, sse, emitter);
            emitter.onTermination(() -> streams.remove(stream));
            streams.add(stream);
        });
    }
}
