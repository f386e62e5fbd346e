package dev.trainyard.api.tokens;

import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A token as listed: never its secret. */
@Schema(name = "Token")
public record TokenView(
        @Schema(required = true) long id,
        @Schema(required = true) String name,

        @Schema(required = true, description = "ADMIN, MEMBER or RUNNER")
        String role,

        @Schema(description = "Project of a MEMBER token") String project,

        @Schema(required = true, description = "First characters of the secret")
        String prefix,

        @Schema(required = true) Instant createdAt,
        Instant revokedAt) {}
