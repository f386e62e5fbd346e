package dev.trainyard.runner.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.spec.DataSpec;
import dev.trainyard.spec.ModelSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Reads tabular rows from JSONL (one object per line) or CSV (a header line, comma-separated, no quoting):
 * the {@code features} columns as floats and the {@code label} column as a class or a value. Class labels may
 * be integers or strings (strings are numbered in sorted order). Rows are shuffled by the seed before the
 * held-out tail is cut, so a file sorted by label still yields a fair split.
 */
public final class TabularFile {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** File data has no seed in the spec: a fixed one gives every runner the same shuffle and split. */
    private static final long SHUFFLE_SEED = 0;

    private TabularFile() {}

    /** Reads {@code data.uri} through {@code fetcher} and splits it for {@code model}. */
    public static TabularData read(ModelSpec.Mlp model, DataSpec.Table data, DataFetcher fetcher) {
        String text = new String(fetcher.readBytes("data.uri", data.uri()), StandardCharsets.UTF_8);
        List<String[]> rows = data.type().equals("csv") ? csvRows(text, data) : jsonlRows(text, data);
        SpecException.require(rows.size() >= 4, "data.uri " + data.uri() + " has fewer than 4 rows");
        SpecException.require(
                data.features().size() == model.inputs(),
                "data.features has " + data.features().size() + " columns but model.inputs is " + model.inputs());
        shuffle(rows, SHUFFLE_SEED);
        return toData(rows, model, data);
    }

    private static List<String[]> csvRows(String text, DataSpec.Table data) {
        String[] lines = text.split("\r?\n");
        List<String> header = Arrays.asList(lines[0].split(","));
        int[] columns = new int[data.features().size() + 1];
        for (int i = 0; i < columns.length; i++) {
            String name = i < data.features().size() ? data.features().get(i) : data.label();
            columns[i] = header.indexOf(name);
            SpecException.require(columns[i] >= 0, "csv column '" + name + "' not found in " + header);
        }
        List<String[]> rows = new ArrayList<>();
        for (int l = 1; l < lines.length; l++) {
            if (lines[l].isBlank()) {
                continue;
            }
            String[] cells = lines[l].split(",", -1);
            String[] row = new String[columns.length];
            for (int i = 0; i < columns.length; i++) {
                row[i] = cells[columns[i]].trim();
            }
            rows.add(row);
        }
        return rows;
    }

    private static List<String[]> jsonlRows(String text, DataSpec.Table data) {
        List<String[]> rows = new ArrayList<>();
        for (String line : text.split("\r?\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException e) {
                throw new UncheckedIOException("bad JSONL line in " + data.uri(), e);
            }
            String[] row = new String[data.features().size() + 1];
            for (int i = 0; i < row.length; i++) {
                String name = i < data.features().size() ? data.features().get(i) : data.label();
                SpecException.require(node.has(name), "jsonl field '" + name + "' missing in a row of " + data.uri());
                row[i] = node.get(name).asText();
            }
            rows.add(row);
        }
        return rows;
    }

    private static void shuffle(List<String[]> rows, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = rows.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            String[] swap = rows.get(i);
            rows.set(i, rows.get(j));
            rows.set(j, swap);
        }
    }

    private static TabularData toData(List<String[]> rows, ModelSpec.Mlp model, DataSpec.Table data) {
        int in = model.inputs();
        float[] x = new float[rows.size() * in];
        long[] classes = model.classification() ? new long[rows.size()] : null;
        float[] values = model.classification() ? null : new float[rows.size()];
        TreeMap<String, Integer> classIds = new TreeMap<>();
        if (classes != null && !rows.stream().allMatch(r -> r[in].matches("-?\\d+"))) {
            rows.forEach(r -> classIds.put(r[in], 0));
            int next = 0;
            for (String key : classIds.keySet()) {
                classIds.put(key, next++);
            }
        }
        for (int r = 0; r < rows.size(); r++) {
            String[] row = rows.get(r);
            for (int i = 0; i < in; i++) {
                x[r * in + i] = Float.parseFloat(row[i]);
            }
            if (classes != null) {
                classes[r] = classIds.isEmpty() ? Long.parseLong(row[in]) : classIds.get(row[in]);
                SpecException.require(
                        classes[r] >= 0 && classes[r] < model.outputs(),
                        "label " + row[in] + " is outside model.outputs " + model.outputs());
            } else {
                values[r] = Float.parseFloat(row[in]);
            }
        }
        int trainRows = (int) Math.round(rows.size() * (1 - data.evalFraction()));
        return new TabularData(x, classes, values, in, trainRows, rows.size(), SHUFFLE_SEED);
    }
}
