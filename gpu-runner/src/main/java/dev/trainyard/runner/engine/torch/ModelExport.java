package dev.trainyard.runner.engine.torch;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trainyard.runner.engine.CheckpointStore;
import dev.trainyard.runner.engine.HostTensor;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.SpecDocument;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes the final weights as {@code model.safetensors} with a {@code config.json} describing the model. The
 * file holds parameters and buffers by name, as a PyTorch state dict does.
 */
final class ModelExport {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelExport() {}

    /**
     * Writes the whole (unsplit) {@code parameters} and {@code buffers} into {@code directory} and returns the
     * safetensors file.
     */
    static Path write(Path directory, JobSpec spec, List<HostTensor> parameters, List<HostTensor> buffers) {
        List<HostTensor> tensors = new ArrayList<>(parameters);
        tensors.addAll(buffers);
        Path weights = directory.resolve("model.safetensors");
        String sha256 =
                CheckpointStore.writeSafetensors(weights, tensors, Map.of("format", "pt", "model", spec.name()));
        try {
            ObjectNode config = JSON.createObjectNode();
            config.put("name", spec.name());
            config.set("model", JSON.readTree(SpecDocument.toJson(spec)).get("model"));
            config.put(
                    "parameters",
                    parameters.stream().mapToLong(t -> t.data().length).sum());
            config.put("dtype", "float32");
            config.put("weights", weights.getFileName().toString());
            config.put("sha256", sha256);
            var names = config.putArray("parameterNames");
            parameters.forEach(t -> names.add(t.name()));
            if (!buffers.isEmpty()) {
                var bufferNames = config.putArray("bufferNames");
                buffers.forEach(t -> bufferNames.add(t.name()));
            }
            Files.writeString(
                    directory.resolve("config.json"),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + directory.resolve("config.json"), e);
        }
        return weights;
    }
}
