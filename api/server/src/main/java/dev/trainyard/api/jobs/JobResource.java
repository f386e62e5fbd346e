package dev.trainyard.api.jobs;

import dev.trainyard.api.auth.CurrentCaller;
import dev.trainyard.spec.JobSpec;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.net.URI;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestResponse;

/** HTTP face of jobs: translates requests to {@link JobService} calls and nothing more. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "jobs")
@SecurityRequirement(name = "bearer")
public class JobResource {
    private final JobService service;
    private final CurrentCaller caller;

    public JobResource(JobService service, CurrentCaller caller) {
        this.service = service;
        this.caller = caller;
    }

    @POST
    @Path("/jobs")
    @Operation(
            operationId = "submitJob",
            summary = "Submit a training job",
            description = "Validates the whole spec and queues the job. With an Idempotency-Key, a retried "
                    + "submission returns the first job (200) instead of creating another.")
    @APIResponse(
            responseCode = "201",
            description = "Queued",
            content =
                    @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = JobView.class)))
    @APIResponse(
            responseCode = "200",
            description = "Replayed: the job first submitted with this Idempotency-Key",
            content =
                    @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = JobView.class)))
    public RestResponse<JobView> submitJob(
            JobSpec spec,
            @Parameter(in = ParameterIn.HEADER, description = "Makes retries safe: same key, same job")
                    @HeaderParam("Idempotency-Key")
                    String idempotencyKey) {
        JobService.Submitted submitted = service.submit(caller.get(), spec, idempotencyKey);
        URI location = URI.create("/api/v1/jobs/" + submitted.job().id());
        if (!submitted.created()) {
            return RestResponse.ResponseBuilder.ok(submitted.job())
                    .location(location)
                    .build();
        }
        return RestResponse.ResponseBuilder.<JobView>created(location)
                .entity(submitted.job())
                .build();
    }

    @POST
    @Path("/jobs:plan")
    @Operation(
            operationId = "planJob",
            summary = "Dry run: validate a spec and say what would happen",
            description = "Nothing is stored.")
    public RestResponse<PlanView> planJob(JobSpec spec) {
        return RestResponse.ok(service.plan(caller.get(), spec));
    }

    @GET
    @Path("/jobs")
    @Operation(operationId = "listJobs", summary = "Jobs the caller may see, newest first")
    public RestResponse<JobPage> listJobs(
            @Parameter(description = "Only jobs in this state") @QueryParam("state") String state,
            @Parameter(description = "Only jobs of this project") @QueryParam("project") String project,
            @Parameter(description = "Only jobs of this pool") @QueryParam("pool") String pool,
            @Parameter(description = "Only jobs whose name contains this") @QueryParam("name") String name,
            @Parameter(description = "nextCursor of the previous page") @QueryParam("cursor") String cursor,
            @Parameter(description = "Page size, 1-200 (default 50)") @QueryParam("limit") Integer limit) {
        return RestResponse.ok(service.list(caller.get(), state, project, pool, name, cursor, limit));
    }

    @GET
    @Path("/jobs/{id: [0-9]+}")
    @Operation(operationId = "getJob", summary = "One job")
    public RestResponse<JobView> getJob(@PathParam("id") long id) {
        return RestResponse.ok(service.get(caller.get(), id));
    }

    @POST
    @Path("/jobs/{id: [0-9]+}:cancel")
    @Operation(
            operationId = "cancelJob",
            summary = "Cancel a job",
            description = "A waiting job is cancelled at once; a running one is asked to stop (cancelRequested) "
                    + "and ends CANCELLED when its runner confirms. A finished job cannot be cancelled (409).")
    public RestResponse<JobView> cancelJob(@PathParam("id") long id) {
        return RestResponse.ok(service.cancel(caller.get(), id));
    }

    @GET
    @Path("/jobs/{id: [0-9]+}/events")
    @Operation(operationId = "listJobEvents", summary = "Every state transition of a job, oldest first")
    public RestResponse<List<JobEventView>> listJobEvents(@PathParam("id") long id) {
        return RestResponse.ok(service.events(caller.get(), id));
    }
}
