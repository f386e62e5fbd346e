package dev.trainyard.runner.engine;

import java.util.List;

/** A multi-layer perceptron: one block per hidden layer (linear + GELU) and an output block. */
public record MlpSpec(int inputs, List<Integer> hidden, int outputs, String task) implements ModelSpec {

  public MlpSpec {
    hidden = hidden == null ? List.of() : List.copyOf(hidden);
    task = task == null ? "classification" : task;
  }

  /** True when the output is a class (cross-entropy), false for regression (mean squared error). */
  public boolean classification() {
    return task.equals("classification");
  }

  @Override
  public void validate() {
    SpecException.require(inputs >= 1 && outputs >= 1, "model.inputs and model.outputs must be positive");
    SpecException.require(hidden.stream().allMatch(h -> h >= 1), "model.hidden sizes must be positive");
    SpecException.require(
        task.equals("classification") || task.equals("regression"),
        "model.task must be classification or regression");
    SpecException.require(
        classification() ? outputs >= 2 : outputs == 1, "classification needs outputs >= 2, regression 1");
  }
}
