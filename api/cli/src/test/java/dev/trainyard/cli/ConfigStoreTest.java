package dev.trainyard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigStoreTest {
    @TempDir
    Path dir;

    @Test
    void storesUnderTheHomeDirectoryByDefault() {
        ConfigStore store = ConfigStore.fromEnvironment(Map.of(), dir);

        assertThat(store.file()).isEqualTo(dir.resolve(".config/trainyard/config.json"));
    }

    @Test
    void trainyardConfigNamesAnotherFile() {
        Path file = dir.resolve("elsewhere.json");

        assertThat(ConfigStore.fromEnvironment(Map.of("TRAINYARD_CONFIG", file.toString()), dir)
                        .file())
                .isEqualTo(file);
    }

    @Test
    void savesReadableByItsOwnerOnlyAndLoadsBack() throws Exception {
        ConfigStore store = ConfigStore.fromEnvironment(Map.of(), dir);

        store.save(new CliConfig("http://api:8080", "ty_secret"));

        assertThat(store.load()).isEqualTo(new CliConfig("http://api:8080", "ty_secret"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file())))
                .isEqualTo("rw-------");
    }

    @Test
    void replacingTheFileKeepsItPrivate() throws Exception {
        ConfigStore store = ConfigStore.fromEnvironment(Map.of(), dir);
        store.save(new CliConfig("http://a", "one"));
        Files.setPosixFilePermissions(store.file(), PosixFilePermissions.fromString("rw-r--r--"));

        store.save(new CliConfig("http://b", "two"));

        assertThat(store.load().token()).isEqualTo("two");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file())))
                .isEqualTo("rw-------");
    }

    @Test
    void environmentVariablesWinOverTheFile() {
        new ConfigStore(dir.resolve("c.json"), Map.of()).save(new CliConfig("http://stored", "stored-token"));

        ConfigStore store = new ConfigStore(dir.resolve("c.json"), Map.of("TRAINYARD_TOKEN", "env-token"));

        assertThat(store.resolve()).isEqualTo(new CliConfig("http://stored", "env-token"));
        assertThat(new ConfigStore(dir.resolve("c.json"), Map.of("TRAINYARD_API", "http://env", "TRAINYARD_TOKEN", ""))
                        .resolve())
                .isEqualTo(new CliConfig("http://env", "stored-token"));
    }

    @Test
    void noFileIsAnEmptyConfiguration() {
        CliConfig config = new ConfigStore(dir.resolve("none.json"), Map.of()).resolve();

        assertThat(config).isEqualTo(CliConfig.EMPTY);
        assertThat(config.complete()).isFalse();
    }

    @Test
    void aBrokenFileIsReportedWithItsPath() throws Exception {
        Path file = Files.writeString(dir.resolve("c.json"), "{not json");

        assertThatThrownBy(() -> new ConfigStore(file, Map.of()).load())
                .isInstanceOf(CliFailure.class)
                .hasMessageContaining(file.toString());
    }
}
