package dev.trainyard.api.projects;

import dev.trainyard.api.auth.CurrentCaller;
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

/** HTTP face of projects. */
@Path("/api/v1/projects")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "projects")
@SecurityRequirement(name = "bearer")
public class ProjectResource {
    private final ProjectService service;
    private final CurrentCaller caller;

    public ProjectResource(ProjectService service, CurrentCaller caller) {
        this.service = service;
        this.caller = caller;
    }

    @POST
    @Operation(operationId = "createProject", summary = "Create a project (admin)")
    @APIResponse(
            responseCode = "201",
            description = "Created; Location names the project",
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_JSON,
                            schema = @Schema(implementation = ProjectView.class)))
    public RestResponse<ProjectView> createProject(ProjectRequests.Create request) {
        ProjectView created = service.create(caller.get(), request);
        return RestResponse.ResponseBuilder.<ProjectView>created(URI.create("/api/v1/projects/" + created.name()))
                .entity(created)
                .build();
    }

    @GET
    @Operation(operationId = "listProjects", summary = "Projects the caller may see")
    public RestResponse<List<ProjectView>> listProjects() {
        return RestResponse.ok(service.list(caller.get()));
    }

    @GET
    @Path("/{name}")
    @Operation(operationId = "getProject", summary = "One project with its spend")
    public RestResponse<ProjectView> getProject(@PathParam("name") String name) {
        return RestResponse.ok(service.get(caller.get(), name));
    }

    @PATCH
    @Path("/{name}")
    @Operation(operationId = "updateProject", summary = "Change a project's budget or share (admin)")
    public RestResponse<ProjectView> updateProject(@PathParam("name") String name, ProjectRequests.Update request) {
        return RestResponse.ok(service.update(caller.get(), name, request));
    }
}
