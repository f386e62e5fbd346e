package dev.trainyard.api.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/** A job spec as plain JSON, valid unless a test breaks it on purpose: set and remove by dotted path. */
public final class Spec {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Object> root = new LinkedHashMap<>();

    private Spec() {}

    /** The smallest valid GPT job: one layer, one device, ten steps of arithmetic. */
    public static Spec gpt(String project, String pool) {
        return new Spec()
                .set("name", "tiny-gpt")
                .set("project", project)
                .set("resources.pool", pool)
                .set("resources.gpus", 1)
                .set("model.type", "gpt")
                .set("model.layers", 1)
                .set("model.dModel", 16)
                .set("model.heads", 2)
                .set("model.seqLen", 8)
                .set("data.type", "arithmetic")
                .set("training.steps", 10);
    }

    /** Sets a value, creating the objects on the way; a null value is sent as JSON null. */
    @SuppressWarnings("unchecked")
    public Spec set(String path, Object value) {
        String[] keys = path.split("\\.");
        Map<String, Object> node = root;
        for (int i = 0; i < keys.length - 1; i++) {
            Object child = node.get(keys[i]);
            if (!(child instanceof Map)) {
                child = new LinkedHashMap<String, Object>();
                node.put(keys[i], child);
            }
            node = (Map<String, Object>) child;
        }
        node.put(keys[keys.length - 1], value);
        return this;
    }

    /** Replaces a whole section, for example {@code model}, with a fresh object. */
    public Spec replace(String key, Map<String, Object> section) {
        root.put(key, new LinkedHashMap<>(section));
        return this;
    }

    @SuppressWarnings("unchecked")
    public Spec remove(String path) {
        String[] keys = path.split("\\.");
        Map<String, Object> node = root;
        for (int i = 0; i < keys.length - 1; i++) {
            node = (Map<String, Object>) node.get(keys[i]);
        }
        node.remove(keys[keys.length - 1]);
        return this;
    }

    public String json() {
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return json();
    }
}
