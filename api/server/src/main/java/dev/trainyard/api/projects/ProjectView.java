package dev.trainyard.api.projects;

import java.math.BigDecimal;
import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A project with its budget and what it has spent. */
@Schema(name = "Project")
public record ProjectView(
        @Schema(required = true) long id,
        @Schema(required = true) String name,

        @Schema(description = "Budget in USD; absent means unlimited")
        BigDecimal budgetUsd,

        @Schema(required = true, description = "USD spent so far (sum of the cost ledger)")
        BigDecimal spentUsd,

        @Schema(required = true, description = "Fair-share weight within a priority class")
        double share,

        @Schema(required = true) Instant createdAt) {}
