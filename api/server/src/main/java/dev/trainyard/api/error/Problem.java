package dev.trainyard.api.error;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.trainyard.spec.FieldViolation;
import dev.trainyard.spec.LayoutSearch;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** An RFC 9457 problem document, the body of every error answer. */
@Schema(hidden = true)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Problem(
        @Schema(required = true, description = "Stable identifier of the kind of error")
        String type,

        @Schema(required = true) String title,
        @Schema(required = true) int status,
        String detail,
        String instance,

        @Schema(description = "For validation errors: each offending field")
        List<FieldViolation> errors,

        @Schema(description = "For a job whose memory plan fits no runner: a layout that would fit, if any")
        LayoutSearch.Proposal proposal) {

    public static final String MEDIA_TYPE = "application/problem+json";

    public Problem(String type, String title, int status, String detail, String instance, List<FieldViolation> errors) {
        this(type, title, status, detail, instance, errors, null);
    }

    public static Problem of(ProblemType type, String detail, String instance, List<FieldViolation> errors) {
        return new Problem(type.uri(), type.title(), type.status(), detail, instance, errors);
    }
}
