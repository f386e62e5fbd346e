package dev.trainyard.runner.engine;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** The model section of a job spec: which architecture to build, as a list of blocks. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = GptSpec.class, name = "gpt"),
  @JsonSubTypes.Type(value = MlpSpec.class, name = "mlp"),
  @JsonSubTypes.Type(value = TorchScriptSpec.class, name = "torchscript")
})
public sealed interface ModelSpec permits GptSpec, MlpSpec, TorchScriptSpec {

  /** Checks the numbers against each other; throws {@link SpecException} with the first problem. */
  void validate();
}
