package dev.trainyard.api.tokens;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request and answer bodies of the token endpoints. */
public final class TokenRequests {
    private TokenRequests() {}

    /** Creates a token. */
    @Schema(name = "CreateToken")
    public record Create(
            @Schema(
                    required = true,
                    description = "1-100 characters, no control characters",
                    example = "alice",
                    maxLength = 100,
                    // no \p{..} classes: a pattern in the document must mean the same to ECMAScript clients and linters
                    pattern = "^[^\\x00-\\x1F\\x7F]{1,100}$")
            String name,

            @Schema(
                    required = true,
                    description = "ADMIN, MEMBER or RUNNER",
                    enumeration = {"ADMIN", "MEMBER", "RUNNER"})
            String role,

            @Schema(description = "Required for MEMBER tokens")
            String project) {}

    /** A new token with its secret, shown only in this answer. */
    @Schema(name = "CreatedToken")
    public record Created(
            @Schema(required = true) TokenView token,

            @Schema(required = true, description = "The bearer secret; store it now, it is not shown again")
            String secret) {}

    /** Who the caller is. */
    @Schema(name = "Identity")
    public record Identity(
            @Schema(required = true) long tokenId,
            @Schema(required = true) String name,
            @Schema(required = true) String role,
            String project) {}
}
