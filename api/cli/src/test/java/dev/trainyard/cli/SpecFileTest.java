package dev.trainyard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.client.ApiClient;
import dev.trainyard.client.model.GptModel;
import dev.trainyard.client.model.JobSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecFileTest {
    private static final String SPEC = """
            {"name": "t", "resources": {"pool": "cpu", "gpus": 1},
             "model": {"type": "gpt", "layers": 1, "dModel": 16, "heads": 2, "seqLen": 8},
             "data": {"type": "arithmetic"}, "training": {"steps": 20}}
            """;

    @TempDir
    Path dir;

    @Test
    void readsASpecIntoTheClientModel() throws Exception {
        JobSpec spec =
                SpecFile.read(Files.writeString(dir.resolve("s.json"), SPEC), ApiClient.createDefaultObjectMapper());

        assertThat(spec.getResources().getGpus()).isEqualTo(1);
        assertThat(spec.getModel().getActualInstance()).isInstanceOf(GptModel.class);
    }

    @Test
    void aMisspeltFieldIsNamedNotDropped() throws Exception {
        Path file = Files.writeString(dir.resolve("s.json"), SPEC.replace("\"steps\"", "\"step\""));

        assertThatThrownBy(() -> SpecFile.read(file, ApiClient.createDefaultObjectMapper()))
                .isInstanceOf(CliFailure.class)
                .hasMessageContaining("training")
                .hasMessageContaining("step")
                .extracting(e -> ((CliFailure) e).exitCode())
                .isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void aWrongTypeIsNamedByItsPath() throws Exception {
        Path file = Files.writeString(dir.resolve("s.json"), SPEC.replace("\"gpus\": 1", "\"gpus\": \"two\""));

        assertThatThrownBy(() -> SpecFile.read(file, ApiClient.createDefaultObjectMapper()))
                .hasMessageContaining("resources.gpus");
    }

    @Test
    void brokenJsonAndMissingFilesAreUsageErrors() throws Exception {
        Path broken = Files.writeString(dir.resolve("b.json"), "{\"name\": ");

        assertThatThrownBy(() -> SpecFile.read(broken, ApiClient.createDefaultObjectMapper()))
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> SpecFile.read(dir.resolve("none.json"), ApiClient.createDefaultObjectMapper()))
                .hasMessageContaining("no such file");
    }
}
