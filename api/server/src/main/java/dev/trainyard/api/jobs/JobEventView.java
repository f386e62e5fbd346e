package dev.trainyard.api.jobs;

import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** One state transition of a job. */
@Schema(name = "JobEvent")
public record JobEventView(
        @Schema(required = true) long id,
        @Schema(required = true) long jobId,
        @Schema(required = true) Instant at,
        String fromState,
        @Schema(required = true) String toState,

        @Schema(
                required = true,
                description = "Machine-readable reason, for example SUBMITTED, CANCELLED_BY_USER or TRAINING_DIVERGED"
                        + " (then with divergence)")
        String reason,

        String message,
        Long attemptId,

        @Schema(description = "Where the loss diverged, on the event with reason TRAINING_DIVERGED")
        DivergenceView divergence) {

    /** An event without data beyond its message. */
    public JobEventView(
            long id,
            long jobId,
            Instant at,
            String fromState,
            String toState,
            String reason,
            String message,
            Long attemptId) {
        this(id, jobId, at, fromState, toState, reason, message, attemptId, null);
    }
}
