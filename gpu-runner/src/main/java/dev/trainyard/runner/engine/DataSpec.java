package dev.trainyard.runner.engine;

import java.util.List;

/** The data section: a generated or file-backed source, its seed and the held-out fraction. */
public record DataSpec(
    String type, long seed, String uri, double evalFraction, int rows, List<String> features, String label) {

  public DataSpec {
    type = type == null ? "arithmetic" : type;
    evalFraction = evalFraction == 0 ? 0.1 : evalFraction;
    rows = rows == 0 ? 4096 : rows;
    features = features == null ? List.of() : List.copyOf(features);
  }

  void validate() {
    SpecException.require(
        List.of("arithmetic", "text", "synthetic-tabular", "jsonl", "csv").contains(type),
        "data.type '" + type + "' is not supported (arithmetic, text, synthetic-tabular, jsonl, csv)");
    SpecException.require(evalFraction > 0 && evalFraction < 0.5, "data.evalFraction must be in (0, 0.5)");
    SpecException.require(!List.of("text", "jsonl", "csv").contains(type) || uri != null,
        "data.uri is required for " + type + " data");
    SpecException.require(!List.of("jsonl", "csv").contains(type) || (!features.isEmpty() && label != null),
        "data.features and data.label are required for " + type + " data");
  }
}
