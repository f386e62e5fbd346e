package dev.trainyard.spec;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A job spec as a JSON document outside the API: spec files read by the engine's {@code train} command and the CLI,
 * specs handed to runners, and the copy stored inside each checkpoint. Keys that are not part of the spec are
 * refused, as the API refuses them.
 */
public final class SpecDocument {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    private static final ObjectMapper LENIENT = JSON.copy().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final ObjectMapper JSON_WITHOUT_NULLS = JSON.copy().setSerializationInclusion(Include.NON_NULL);

    private SpecDocument() {}

    /** The document's spec as written, without defaults; throws {@link InvalidFieldsException} naming the key. */
    public static JobSpec parse(String json) {
        try {
            return JSON.readValue(json, JobSpec.class);
        } catch (JsonMappingException e) {
            String field = path(e);
            throw new InvalidFieldsException(
                    List.of(new FieldViolation(field.isEmpty() ? "$" : field, firstLine(e.getOriginalMessage()))));
        } catch (JsonProcessingException e) {
            throw new InvalidFieldsException(
                    List.of(new FieldViolation("$", "is not valid JSON: " + firstLine(e.getOriginalMessage()))));
        }
    }

    /**
     * The model section of a stored document, other keys ignored: checkpoints written before this module keep
     * the engine's older key set beside the model.
     */
    public static ModelSpec modelOf(String json) {
        try {
            return LENIENT.treeToValue(LENIENT.readTree(json).get("model"), ModelSpec.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new InvalidFieldsException(
                    List.of(new FieldViolation("model", "cannot be read: " + firstLine(e.getMessage()))));
        }
    }

    /** Parses a document to train offline and fills in every default, as the API does at submission. */
    public static JobSpec parseForTraining(String json) {
        return JobSpecValidator.normalizeForTraining(parse(json));
    }

    /** Reads a spec file to train offline; see {@link #parseForTraining(String)}. */
    public static JobSpec readForTraining(Path file) {
        try {
            return parseForTraining(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read job spec " + file, e);
        }
    }

    /** The spec as one JSON document, keys without a value left out. */
    public static String toJson(JobSpec spec) {
        try {
            return JSON_WITHOUT_NULLS.writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a job spec always serializes", e);
        }
    }

    /** The failing key as a dotted path with [i] for array items, as the API's problem answers name it. */
    public static String path(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                out.append(out.length() > 0 ? "." : "").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
