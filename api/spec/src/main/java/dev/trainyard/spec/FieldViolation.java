package dev.trainyard.spec;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** One offending field of a request body, named by its JSON path (for example {@code model.heads}). */
@Schema(hidden = true)
public record FieldViolation(String field, String message) {}
