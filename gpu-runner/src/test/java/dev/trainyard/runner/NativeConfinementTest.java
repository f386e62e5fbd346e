package dev.trainyard.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps libtorch behind the engine interface: only the native package {@code engine.torch} may name
 * {@code org.bytedeco}, so the loop, the data, the checkpoint format and the agent stay testable without it.
 */
class NativeConfinementTest {
    private static final Path MAIN = Path.of("src/main/java");
    private static final Path NATIVE_PACKAGE = MAIN.resolve("dev/trainyard/runner/engine/torch");

    @Test
    void onlyTheTorchPackageNamesTheNativeLibraries() throws IOException {
        assertThat(Files.isDirectory(NATIVE_PACKAGE))
                .as("native package at %s", NATIVE_PACKAGE)
                .isTrue();
        assertThat(filesNaming("org.bytedeco", path -> !path.startsWith(NATIVE_PACKAGE)))
                .isEmpty();
    }

    @Test
    void theScanFindsTheNativePackagesOwnImports() throws IOException {
        // the check above is only worth something if the scan sees imports where they are
        assertThat(filesNaming("org.bytedeco", path -> path.startsWith(NATIVE_PACKAGE)))
                .isNotEmpty();
    }

    private static List<Path> filesNaming(String text, Predicate<Path> where) throws IOException {
        try (Stream<Path> files = Files.walk(MAIN)) {
            return files.filter(f -> f.toString().endsWith(".java"))
                    .filter(where)
                    .filter(f -> read(f).contains(text))
                    .toList();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
