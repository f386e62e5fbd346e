package dev.trainyard.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.client.model.JobSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a job spec file into the client's model. Unknown fields are refused, as the API refuses them, so that a
 * misspelt key is reported instead of silently dropped; the API validates the rest.
 */
public final class SpecFile {
    private SpecFile() {
    }

    public static JobSpec read(Path file, ObjectMapper clientMapper) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new CliFailure(ExitCodes.USAGE, "no such file: " + file);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.USAGE, "cannot read " + file + ": " + e.getMessage());
        }
        ObjectMapper strict = clientMapper.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        try {
            return strict.readValue(text, JobSpec.class);
        } catch (JsonMappingException e) {
            String field = path(e);
            throw new CliFailure(ExitCodes.USAGE, file + ": " + (field.isEmpty() ? "" : field + ": ")
                    + firstLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw new CliFailure(ExitCodes.USAGE, file + " is not valid JSON: " + firstLine(e.getOriginalMessage()));
        }
    }

    /** The failing field as a dotted path with [i] for array items, like the API's problem answers name it. */
    static String path(JsonMappingException e) {
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
