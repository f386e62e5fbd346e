package dev.trainyard.api.pools;

import dev.trainyard.api.auth.CurrentCaller;
import dev.trainyard.api.jobs.JobDetailViews;
import dev.trainyard.api.jobs.JobDetails;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.net.URI;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestResponse;

/** HTTP face of pools. */
@Path("/api/v1/pools")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "pools")
@SecurityRequirement(name = "bearer")
public class PoolResource {
    private final PoolService service;
    private final JobDetails details;
    private final CurrentCaller caller;

    public PoolResource(PoolService service, JobDetails details, CurrentCaller caller) {
        this.details = details;
        this.service = service;
        this.caller = caller;
    }

    @POST
    @Operation(operationId = "createPool", summary = "Create a pool (admin)")
    @APIResponse(
            responseCode = "201",
            description = "Created; Location names the pool",
            content =
                    @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = PoolView.class)))
    public RestResponse<PoolView> createPool(PoolRequests.Create request) {
        PoolView created = service.create(caller.get(), request);
        return RestResponse.ResponseBuilder.<PoolView>created(URI.create("/api/v1/pools/" + created.name()))
                .entity(created)
                .build();
    }

    @GET
    @Operation(operationId = "listPools", summary = "All pools with price and capacity")
    public RestResponse<List<PoolView>> listPools() {
        caller.get();
        return RestResponse.ok(service.list());
    }

    @GET
    @Path("/{name}")
    @Operation(operationId = "getPool", summary = "One pool")
    public RestResponse<PoolView> getPool(@PathParam("name") String name) {
        caller.get();
        return RestResponse.ok(service.get(name));
    }

    @GET
    @Path("/{name}/queue")
    @Operation(
            operationId = "getPoolQueue",
            summary = "Waiting jobs of a pool in the order they will be tried",
            description = "A member sees every waiting job, but the names only of its own project's jobs.")
    public RestResponse<List<JobDetailViews.QueueEntry>> getPoolQueue(@PathParam("name") String name) {
        return RestResponse.ok(details.queue(caller.get(), service.get(name).id()));
    }

    @PATCH
    @Path("/{name}")
    @Operation(operationId = "updatePool", summary = "Change a pool's price or data access policy (admin)")
    public RestResponse<PoolView> updatePool(@PathParam("name") String name, PoolRequests.Update request) {
        return RestResponse.ok(service.update(caller.get(), name, request));
    }
}
