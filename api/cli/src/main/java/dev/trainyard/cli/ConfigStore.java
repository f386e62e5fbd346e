package dev.trainyard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The login file ({@code ~/.config/trainyard/config.json}, or {@code $TRAINYARD_CONFIG}) and the environment
 * variables {@code TRAINYARD_API} and {@code TRAINYARD_TOKEN}, which win over it.
 */
public final class ConfigStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final Map<String, String> env;

    public ConfigStore(Path file, Map<String, String> env) {
        this.file = file;
        this.env = env;
    }

    /** The store this process uses: the file named by the environment, or the one under the home directory. */
    public static ConfigStore fromEnvironment(Map<String, String> env, Path home) {
        String configured = env.get("TRAINYARD_CONFIG");
        Path file = configured != null && !configured.isBlank()
                ? Path.of(configured)
                : home.resolve(".config").resolve("trainyard").resolve("config.json");
        return new ConfigStore(file, env);
    }

    public Path file() {
        return file;
    }

    /** The stored values, overridden by the environment's. */
    public CliConfig resolve() {
        return load().overriddenBy(new CliConfig(env.get("TRAINYARD_API"), env.get("TRAINYARD_TOKEN")));
    }

    /** The stored values alone; empty when there is no file yet. */
    public CliConfig load() {
        if (!Files.exists(file)) {
            return CliConfig.EMPTY;
        }
        try {
            JsonNode node = JSON.readTree(file.toFile());
            return new CliConfig(text(node, "api"), text(node, "token"));
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.FAILURE, "cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Writes the file readable by its owner only (mode 600), replacing it in one step. */
    public void save(CliConfig config) {
        ObjectNode node = JSON.createObjectNode().put("api", config.api()).put("token", config.token());
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = dir.resolve(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                // created private before the secret is written, so it is never readable by others
                Files.createFile(
                        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.FAILURE, "cannot write " + file + ": " + e.getMessage());
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
