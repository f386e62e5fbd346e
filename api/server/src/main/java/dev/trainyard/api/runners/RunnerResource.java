package dev.trainyard.api.runners;

import dev.trainyard.api.auth.CurrentCaller;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestResponse;

/** HTTP face of runners for people (admins and members). */
@Path("/api/v1/runners")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "runners")
@SecurityRequirement(name = "bearer")
public class RunnerResource {
    private final RunnerQueries queries;
    private final CurrentCaller caller;

    public RunnerResource(RunnerQueries queries, CurrentCaller caller) {
        this.queries = queries;
        this.caller = caller;
    }

    @GET
    @Operation(operationId = "listRunners", summary = "All runners with their state and devices")
    public RestResponse<List<RunnerView>> listRunners(@QueryParam("pool") String pool) {
        caller.get();
        return RestResponse.ok(queries.list(pool));
    }

    @GET
    @Path("/{id: [0-9]+}")
    @Operation(operationId = "getRunner", summary = "One runner")
    public RestResponse<RunnerView> getRunner(@PathParam("id") long id) {
        caller.get();
        return RestResponse.ok(queries.get(id));
    }

    @POST
    @Path("/{id: [0-9]+}:drain")
    @Operation(operationId = "drainRunner", summary = "Send no new work to a runner (admin)")
    public RestResponse<RunnerView> drainRunner(@PathParam("id") long id) {
        return RestResponse.ok(queries.drain(caller.get(), id));
    }
}
