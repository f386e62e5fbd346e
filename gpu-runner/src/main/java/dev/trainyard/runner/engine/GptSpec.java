package dev.trainyard.runner.engine;

/** A GPT-style decoder: embedding block, {@code layers} transformer blocks, final norm + head block. */
public record GptSpec(int layers, int dModel, int heads, int seqLen, int vocab, double dropout)
    implements ModelSpec {

  @Override
  public void validate() {
    SpecException.require(layers >= 1, "model.layers must be at least 1");
    SpecException.require(dModel >= 1 && heads >= 1, "model.dModel and model.heads must be positive");
    SpecException.require(dModel % heads == 0, "model.dModel must be a multiple of model.heads");
    SpecException.require(seqLen >= 2, "model.seqLen must be at least 2");
    SpecException.require(vocab >= 2, "model.vocab must be at least 2");
    SpecException.require(dropout >= 0 && dropout < 1, "model.dropout must be in [0, 1)");
  }
}
