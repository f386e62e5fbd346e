package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.system.support.Repository;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The program docs/exported-weights.md quotes is the file ExportedWeightsTest runs, character for character. */
class ExportedWeightsDocTest {

    @Test
    void theDocQuotesTheTestedExampleWhole() throws Exception {
        String doc = Files.readString(Repository.root().resolve("docs/exported-weights.md"));
        String example = Files.readString(Repository.root().resolve("docs/examples/load_exported.py"));

        int start = doc.indexOf("```python\n");
        assertThat(start).as("a python block in the doc").isNotNegative();
        int end = doc.indexOf("```\n", start + 10);
        assertThat(doc.substring(start + "```python\n".length(), end)).isEqualTo(example);
    }
}
