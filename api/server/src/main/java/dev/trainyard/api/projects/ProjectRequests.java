package dev.trainyard.api.projects;

import dev.trainyard.spec.Violations;
import java.math.BigDecimal;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request bodies of the project endpoints. */
public final class ProjectRequests {
    private ProjectRequests() {}

    /** Creates a project. */
    @Schema(name = "CreateProject")
    public record Create(
            @Schema(
                    required = true,
                    description = "Lower-case letters, digits and '-', up to 63",
                    example = "vision",
                    maxLength = 63,
                    pattern = Violations.RESOURCE_NAME_PATTERN)
            String name,

            @Schema(
                    description = "Budget in USD; absent means unlimited",
                    minimum = "0",
                    maximum = ProjectService.MAX_BUDGET)
            BigDecimal budgetUsd,

            @Schema(description = "Fair-share weight (default 1)", minimum = "0.001", maximum = "1000")
            Double share) {}

    /** Changes a project's budget or share; absent fields stay as they are. */
    @Schema(name = "UpdateProject")
    public record Update(
            @Schema(description = "New budget in USD", minimum = "0", maximum = ProjectService.MAX_BUDGET)
            BigDecimal budgetUsd,

            @Schema(description = "Remove the budget (unlimited)")
            Boolean unlimited,

            @Schema(description = "New fair-share weight", minimum = "0.001", maximum = "1000")
            Double share) {}
}
