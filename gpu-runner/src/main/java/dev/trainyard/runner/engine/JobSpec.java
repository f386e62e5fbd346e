package dev.trainyard.runner.engine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training parts of a job spec (docs/design/job-spec.md); the scheduler's parts (priority, resources,
 * limits) are ignored here.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobSpec(
    String name,
    ModelSpec model,
    DataSpec data,
    TrainingSpec training,
    ParallelismSpec parallelism,
    CheckpointSpec checkpoint) {

  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  public JobSpec {
    name = name == null ? "job" : name;
    parallelism = parallelism == null ? ParallelismSpec.defaults() : parallelism;
    checkpoint = checkpoint == null ? CheckpointSpec.defaults() : checkpoint;
  }

  /** Parses and validates a spec document. */
  public static JobSpec parse(String json) {
    JobSpec spec;
    try {
      spec = JSON.readValue(json, JobSpec.class);
    } catch (JsonProcessingException e) {
      throw new SpecException("job spec is not valid: " + e.getOriginalMessage(), e);
    }
    spec.validate();
    return spec;
  }

  /** Reads, parses and validates a spec file. */
  public static JobSpec read(Path file) {
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read job spec " + file, e);
    }
  }

  /** The spec as JSON, as stored inside checkpoints. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Throws {@link SpecException} naming the first key that cannot be trained as written. */
  public void validate() {
    SpecException.require(model != null, "model is required");
    SpecException.require(data != null, "data is required");
    SpecException.require(training != null, "training is required");
    model.validate();
    data.validate();
    training.validate();
    parallelism.validate();
    checkpoint.validate();
    SpecException.require(
        training.batchSize() % (parallelism.microBatches() * parallelism.dataParallel()) == 0,
        "training.batchSize must be a multiple of parallelism.microBatches x parallelism.dataParallel");
    if (model instanceof TorchScriptSpec script) {
      script.validateFor(data);
      return;
    }
    boolean tokens = model instanceof GptSpec;
    SpecException.require(
        tokens == java.util.List.of("arithmetic", "text").contains(data.type()),
        "data.type " + data.type() + " does not fit model type " + (tokens ? "gpt" : "mlp"));
    if (model instanceof GptSpec gpt) {
      int needed = data.type().equals("text") ? 256 : 128;
      SpecException.require(gpt.vocab() >= needed, "model.vocab must be at least " + needed + " for byte tokens");
    }
  }

  /** Returns a copy with another parallelism section (tests and the CLI use this). */
  public JobSpec withParallelism(ParallelismSpec other) {
    return new JobSpec(name, model, data, training, other, checkpoint);
  }

  /** Returns a copy with another training section. */
  public JobSpec withTraining(TrainingSpec other) {
    return new JobSpec(name, model, data, other, parallelism, checkpoint);
  }

  /** Returns a copy with another checkpoint section. */
  public JobSpec withCheckpoint(CheckpointSpec other) {
    return new JobSpec(name, model, data, training, parallelism, other);
  }
}
