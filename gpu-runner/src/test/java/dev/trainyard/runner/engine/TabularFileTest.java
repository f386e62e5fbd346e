package dev.trainyard.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.spec.DataSpec;
import dev.trainyard.spec.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CSV and JSONL files become the same rows; bad columns are refused naming them. */
class TabularFileTest {

    @TempDir
    Path tmp;

    private static final ModelSpec.Mlp MODEL = new ModelSpec.Mlp("mlp", 2, List.of(4), 2, "classification");

    private DataSpec.Table spec(String type, Path file) {
        return new DataSpec.Table(type, file.toString(), List.of("x", "y"), "label", 0.25);
    }

    @Test
    void csvAndJsonlYieldTheSameRows() throws Exception {
        Path csv = tmp.resolve("t.csv");
        Files.writeString(csv, "id,x,y,label\n1,0.5,1.5,yes\n2,-1,2,no\n3,3,4,yes\n4,0,0,no\n");
        Path jsonl = tmp.resolve("t.jsonl");
        Files.writeString(jsonl, """
        {"x": 0.5, "y": 1.5, "label": "yes"}
        {"x": -1, "y": 2, "label": "no"}
        {"x": 3, "y": 4, "label": "yes"}
        {"x": 0, "y": 0, "label": "no"}
        """);

        TabularBatch fromCsv = TabularFile.read(MODEL, spec("csv", csv), DataFetcher.unrestricted())
                .trainBatch(0, 5);
        TabularBatch fromJsonl = TabularFile.read(MODEL, spec("jsonl", jsonl), DataFetcher.unrestricted())
                .trainBatch(0, 5);

        assertThat(fromCsv.inputs()).containsExactly(fromJsonl.inputs());
        assertThat(fromCsv.classes()).containsExactly(fromJsonl.classes());
        assertThat(java.util.Arrays.stream(fromCsv.classes()).boxed().toList()).isSubsetOf(0L, 1L);
    }

    @Test
    void refusesAMissingColumn() throws Exception {
        Path csv = tmp.resolve("t.csv");
        Files.writeString(csv, "x,z,label\n1,2,0\n1,2,1\n1,2,0\n1,2,1\n");

        assertThatThrownBy(() -> TabularFile.read(MODEL, spec("csv", csv), DataFetcher.unrestricted()))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("'y'");
    }
}
