package dev.trainyard.api.jobs;

import dev.trainyard.api.lifecycle.Divergence;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Where a job's loss diverged, as a client reads it (job, its ending event) and a runner reports it. JSON has no
 * NaN or infinity, so a loss that is not finite is named in {@code nonFinite} and {@code loss} is absent.
 */
@Schema(name = "Divergence", description = "Where the training loss diverged: the step and that step's loss")
public record DivergenceView(
        @Schema(required = true, description = "The step whose loss diverged", minimum = "0")
        long step,

        @Schema(description = "That step's loss; absent when it is not a finite number (see nonFinite)")
        Double loss,

        @Schema(
                description = "Present when the loss is not a finite number",
                enumeration = {NAN, INFINITY, NEGATIVE_INFINITY})
        String nonFinite) {

    public static final String NAN = "NaN";
    public static final String INFINITY = "Infinity";
    public static final String NEGATIVE_INFINITY = "-Infinity";

    /** The view of a stored divergence; null for null. */
    public static DivergenceView of(Long step, Double loss) {
        if (step == null || loss == null) {
            return null;
        }
        return Double.isFinite(loss)
                ? new DivergenceView(step, loss, null)
                : new DivergenceView(step, null, Double.toString(loss));
    }

    /** What a report says, as the lifecycle stores it; empty when its fields contradict each other. */
    public java.util.Optional<Divergence> toDivergence() {
        if (loss != null && nonFinite == null && Double.isFinite(loss)) {
            return java.util.Optional.of(new Divergence(step, loss));
        }
        if (loss == null && nonFinite != null) {
            return switch (nonFinite) {
                case NAN -> java.util.Optional.of(new Divergence(step, Double.NaN));
                case INFINITY -> java.util.Optional.of(new Divergence(step, Double.POSITIVE_INFINITY));
                case NEGATIVE_INFINITY -> java.util.Optional.of(new Divergence(step, Double.NEGATIVE_INFINITY));
                default -> java.util.Optional.empty();
            };
        }
        return java.util.Optional.empty();
    }
}
