package dev.trainyard.system.support;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository and its built artifacts are, for tests that start the real programs. */
public final class Repository {
    private Repository() {}

    public static Path root() {
        String configured = System.getProperty("trainyard.root");
        Path p = configured != null
                ? Path.of(configured)
                : Path.of("").toAbsolutePath().getParent().getParent();
        return p.toAbsolutePath().normalize();
    }

    public static Path apiJar() {
        return built(root().resolve("api/server/target/quarkus-app/quarkus-run.jar"));
    }

    public static Path runnerJar() {
        return built(root().resolve("gpu-runner/target/gpu-runner.jar"));
    }

    /** Where this module's tests write logs and screenshots for people to look at. */
    public static Path output(String name) {
        Path dir = root().resolve("src/test/target").resolve(name);
        try {
            return Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path built(Path p) {
        if (!Files.exists(p)) {
            throw new IllegalStateException(p + " is missing: build first (./mvnw -DskipTests package)");
        }
        return p;
    }
}
