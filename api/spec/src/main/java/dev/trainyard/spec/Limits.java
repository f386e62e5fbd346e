package dev.trainyard.spec;

import java.math.BigDecimal;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Cost and time limits of a job. */
@Schema(name = "Limits")
public record Limits(
        @Schema(
                description = "Stop the job (BUDGET_EXHAUSTED) once its cost reaches this, in USD",
                minimum = "0",
                maximum = "1000000000")
        BigDecimal maxCostUsd,

        @Schema(
                description = "Bound of one attempt's runtime in seconds, counted from its placement (default "
                        + SpecDefaults.MAX_RUNTIME_SECONDS
                        + "); an attempt reaching it checkpoints and stops, and the job"
                        + " ends FAILED (RUNTIME_LIMIT_REACHED)",
                minimum = "1",
                maximum = "" + JobSpecValidator.MAX_RUNTIME_SECONDS)
        Long maxRuntimeSeconds,

        @Schema(
                description =
                        "Resumes after a lost runner before the job fails (default " + SpecDefaults.MAX_RESTARTS + ")",
                minimum = "0",
                maximum = "100")
        Integer maxRestarts) {}
