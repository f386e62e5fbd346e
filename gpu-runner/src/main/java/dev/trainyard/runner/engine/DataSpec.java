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
        List.of("arithmetic", "text", "synthetic-tabular").contains(type),
        "data.type '" + type + "' is not supported by this engine (arithmetic, text, synthetic-tabular)");
    SpecException.require(evalFraction > 0 && evalFraction < 0.5, "data.evalFraction must be in (0, 0.5)");
    SpecException.require(!type.equals("text") || uri != null, "data.uri is required for text data");
  }
}
