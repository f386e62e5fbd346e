package dev.trainyard.api.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.spec.JobSpec;

/** Reads back the job specs stored in {@code jobs.spec}, which the API wrote from validated specs. */
final class StoredSpecs {

    private StoredSpecs() {}

    static JobSpec read(ObjectMapper json, String spec) {
        try {
            return json.readValue(spec, JobSpec.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored spec does not read back", e);
        }
    }
}
