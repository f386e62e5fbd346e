package dev.trainyard.api.auth;

import dev.trainyard.api.error.ApiException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Authenticates every /api request by its bearer token and keeps runner tokens on runner endpoints and
 * people's tokens off them. Authorisation of individual resources is the services' job.
 */
public class AuthFilter {
    static final String RUNNER_PATH = "/api/v1/runner/";

    private final TokenLookup tokens;
    private final CurrentCaller current;

    public AuthFilter(TokenLookup tokens, CurrentCaller current) {
        this.tokens = tokens;
        this.current = current;
    }

    @ServerRequestFilter
    public void authenticate(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith("/api/")) {
            return;
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
            throw new ApiException.Unauthenticated("Send 'Authorization: Bearer <token>'");
        }
        String secret = header.substring(7).trim();
        if (secret.length() > 200) {
            throw new ApiException.Unauthenticated("The token is not valid");
        }
        Caller caller = tokens.find(secret)
                .orElseThrow(() -> new ApiException.Unauthenticated("The token is not valid or was revoked"));
        boolean runnerPath = path.startsWith(RUNNER_PATH);
        if (runnerPath != (caller.role() == Role.RUNNER)) {
            throw new ApiException.Forbidden(
                    runnerPath
                            ? "Only runner tokens may call runner endpoints"
                            : "Runner tokens may only call runner endpoints");
        }
        current.set(caller);
    }
}
