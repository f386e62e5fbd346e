package dev.trainyard.runner.engine;

import java.util.List;

/**
 * A user's TorchScript module ({@code .pt}, by local path, {@code file:} or http(s) URI) whose top-level
 * children, in order, are the blocks. Weights come from the file. With token data the module maps ids
 * {@code [B, seqLen]} to logits {@code [B, seqLen, V]}; with tabular data features {@code [B, inputs]} to
 * {@code [B, outputs]}, trained for {@code task} like the MLP.
 *
 * @param task {@code classification} (default) or {@code regression}; tabular data only
 * @param seqLen context length of token windows; required with token data
 * @param inputs feature count; required with tabular data
 * @param outputs classes, or 1 for regression; required with tabular data
 */
public record TorchScriptSpec(String uri, String task, int seqLen, int inputs, int outputs) implements ModelSpec {

  public TorchScriptSpec {
    task = task == null ? "classification" : task;
  }

  /** True when tabular outputs are class scores (cross-entropy), false for regression. */
  public boolean classification() {
    return task.equals("classification");
  }

  /** The tabular data's view of this model: its input and output widths and task, as for an MLP. */
  public MlpSpec tabularShape() {
    return new MlpSpec(inputs, List.of(), outputs, task);
  }

  @Override
  public void validate() {
    SpecException.require(uri != null && !uri.isBlank(), "model.uri is required for a torchscript model");
    SpecException.require(
        task.equals("classification") || task.equals("regression"),
        "model.task must be classification or regression");
    SpecException.require(seqLen >= 0 && inputs >= 0 && outputs >= 0,
        "model.seqLen, model.inputs and model.outputs must not be negative");
  }

  /** Checks the fields the data type needs; called by {@link JobSpec#validate()}. */
  void validateFor(DataSpec data) {
    if (List.of("arithmetic", "text").contains(data.type())) {
      SpecException.require(seqLen >= 2, "model.seqLen (at least 2) is required for a torchscript model on "
          + data.type() + " data");
    } else {
      SpecException.require(inputs >= 1 && outputs >= 1, "model.inputs and model.outputs are required for a"
          + " torchscript model on " + data.type() + " data");
      tabularShape().validate();
    }
  }
}
