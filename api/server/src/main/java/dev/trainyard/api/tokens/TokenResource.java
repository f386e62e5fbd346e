package dev.trainyard.api.tokens;

import dev.trainyard.api.auth.CurrentCaller;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
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

/** HTTP face of tokens, and of "who am I". */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "tokens")
@SecurityRequirement(name = "bearer")
public class TokenResource {
    private final TokenService service;
    private final CurrentCaller caller;

    public TokenResource(TokenService service, CurrentCaller caller) {
        this.service = service;
        this.caller = caller;
    }

    @POST
    @Path("/tokens")
    @Operation(operationId = "createToken", summary = "Create a token (admin); the secret is shown once")
    @APIResponse(
            responseCode = "201",
            description = "Created; the secret is in this answer only",
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_JSON,
                            schema = @Schema(implementation = TokenRequests.Created.class)))
    public RestResponse<TokenRequests.Created> createToken(TokenRequests.Create request) {
        TokenRequests.Created created = service.create(caller.get(), request);
        return RestResponse.ResponseBuilder.<TokenRequests.Created>created(
                        URI.create("/api/v1/tokens/" + created.token().id()))
                .entity(created)
                .build();
    }

    @GET
    @Path("/tokens")
    @Operation(operationId = "listTokens", summary = "All tokens (admin)")
    public RestResponse<List<TokenView>> listTokens() {
        return RestResponse.ok(service.list(caller.get()));
    }

    @DELETE
    @Path("/tokens/{id}")
    @Operation(operationId = "revokeToken", summary = "Revoke a token (admin)")
    public RestResponse<TokenView> revokeToken(@PathParam("id") long id) {
        return RestResponse.ok(service.revoke(caller.get(), id));
    }

    @GET
    @Path("/me")
    @Operation(operationId = "whoAmI", summary = "The identity behind the bearer token")
    public RestResponse<TokenRequests.Identity> whoAmI() {
        return RestResponse.ok(service.whoAmI(caller.get()));
    }
}
