package dev.trainyard.api.projects;

import java.math.BigDecimal;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request bodies of the project endpoints. */
public final class ProjectRequests {
    private ProjectRequests() {}

    /** Creates a project. */
    @Schema(name = "CreateProject")
    public record Create(
            @Schema(required = true, description = "Lower-case letters, digits and '-', up to 63", example = "vision")
            String name,

            @Schema(description = "Budget in USD; absent means unlimited")
            BigDecimal budgetUsd,

            @Schema(description = "Fair-share weight (default 1)")
            Double share) {}

    /** Changes a project's budget or share; absent fields stay as they are. */
    @Schema(name = "UpdateProject")
    public record Update(
            @Schema(description = "New budget in USD") BigDecimal budgetUsd,

            @Schema(description = "Remove the budget (unlimited)")
            Boolean unlimited,

            @Schema(description = "New fair-share weight") Double share) {}
}
