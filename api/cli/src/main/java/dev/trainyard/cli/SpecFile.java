package dev.trainyard.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.client.model.JobSpec;
import dev.trainyard.spec.FieldViolation;
import dev.trainyard.spec.InvalidFieldsException;
import dev.trainyard.spec.SpecDocument;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a job spec file into the client's model. The spec module parses it first, refusing unknown fields as the
 * API refuses them, so that a misspelt key is reported by its path instead of silently dropped; the API validates
 * the rest.
 */
public final class SpecFile {
    private SpecFile() {}

    public static JobSpec read(Path file, ObjectMapper clientMapper) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new CliFailure(ExitCodes.USAGE, "no such file: " + file);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.USAGE, "cannot read " + file + ": " + e.getMessage());
        }
        try {
            // the spec module reads the document as the API does: a misspelt key or a wrong type is named by its path
            SpecDocument.parse(text);
        } catch (InvalidFieldsException e) {
            FieldViolation first = e.violations().get(0);
            throw new CliFailure(
                    ExitCodes.USAGE,
                    first.field().equals("$")
                            ? file + " " + first.message()
                            : file + ": " + first.field() + ": " + first.message());
        }
        try {
            return clientMapper.readValue(text, JobSpec.class);
        } catch (JsonProcessingException e) {
            throw new CliFailure(ExitCodes.USAGE, file + ": " + firstLine(e.getOriginalMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
