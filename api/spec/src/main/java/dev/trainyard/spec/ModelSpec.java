package dev.trainyard.spec;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.DiscriminatorMapping;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The model to train, as a list of blocks that can be cut into pipeline stages. */
@JsonTypeInfo(
        use = JsonTypeInfo.Id.NAME,
        include = JsonTypeInfo.As.EXISTING_PROPERTY,
        property = "type",
        visible = true)
@JsonSubTypes({
    @JsonSubTypes.Type(value = ModelSpec.Gpt.class, name = "gpt"),
    @JsonSubTypes.Type(value = ModelSpec.Mlp.class, name = "mlp"),
    @JsonSubTypes.Type(value = ModelSpec.TorchScript.class, name = "torchscript")
})
@Schema(
        name = "ModelSpec",
        oneOf = {ModelSpec.Gpt.class, ModelSpec.Mlp.class, ModelSpec.TorchScript.class},
        discriminatorProperty = "type",
        discriminatorMapping = {
            @DiscriminatorMapping(value = "gpt", schema = ModelSpec.Gpt.class),
            @DiscriminatorMapping(value = "mlp", schema = ModelSpec.Mlp.class),
            @DiscriminatorMapping(value = "torchscript", schema = ModelSpec.TorchScript.class)
        })
public sealed interface ModelSpec permits ModelSpec.Gpt, ModelSpec.Mlp, ModelSpec.TorchScript {

    String type();

    /** A GPT-style decoder: embedding, {@code layers} transformer blocks, final norm and head. */
    @Schema(name = "GptModel")
    record Gpt(
            @Schema(required = true, enumeration = "gpt") String type,

            @Schema(required = true, example = "2", minimum = "1", maximum = "256")
            Integer layers,

            @Schema(required = true, example = "64", minimum = "1", maximum = "65536")
            Integer dModel,

            @Schema(required = true, example = "4", minimum = "1", maximum = "256")
            Integer heads,

            @Schema(required = true, example = "32", minimum = "2", maximum = "65536")
            Integer seqLen,

            @Schema(
                    description = "Vocabulary size (byte-level data needs 256 or less)",
                    example = "128",
                    minimum = "2",
                    maximum = "1048576")
            Integer vocab,

            @Schema(description = "Dropout probability (default 0)", minimum = "0", maximum = "0.99")
            Double dropout)
            implements ModelSpec {}

    /** A multi-layer perceptron for tabular data. */
    @Schema(name = "MlpModel")
    record Mlp(
            @Schema(required = true, enumeration = "mlp") String type,

            @Schema(required = true, example = "8", minimum = "1", maximum = "1000000")
            Integer inputs,

            @Schema(required = true, description = "Hidden layer widths, each 1-65536", maxItems = 64)
            List<Integer> hidden,

            @Schema(required = true, example = "2", minimum = "1", maximum = "1000000")
            Integer outputs,

            @Schema(
                    description = "classification (default) or regression",
                    enumeration = {"classification", "regression"})
            String task)
            implements ModelSpec {

        /** True when the output is a class (cross-entropy), false for regression (mean squared error). */
        public boolean classification() {
            return !"regression".equals(task);
        }
    }

    /** A user's TorchScript module whose top level is a sequence of blocks. */
    @Schema(name = "TorchScriptModel")
    record TorchScript(
            @Schema(required = true, enumeration = "torchscript")
            String type,

            @Schema(required = true, description = "file: or http(s): URI of the .pt file")
            String uri,

            @Schema(
                    description = "Tabular data: classification (default) or regression",
                    enumeration = {"classification", "regression"})
            String task,

            @Schema(
                    description = "Token data (required): context length; the module maps ids [B, seqLen] to"
                            + " logits [B, seqLen, vocab]",
                    example = "32",
                    minimum = "2",
                    maximum = "65536")
            Integer seqLen,

            @Schema(
                    description = "Tabular data (required): feature count",
                    example = "8",
                    minimum = "1",
                    maximum = "1000000")
            Integer inputs,

            @Schema(
                    description = "Tabular data (required): classes, or 1 for regression",
                    example = "2",
                    minimum = "1",
                    maximum = "1000000")
            Integer outputs)
            implements ModelSpec {

        /** True when tabular outputs are class scores (cross-entropy), false for regression. */
        public boolean classification() {
            return !"regression".equals(task);
        }

        /** The tabular data's view of this model: its input and output widths and task, as for an MLP. */
        public Mlp tabularShape() {
            return new Mlp("mlp", inputs, List.of(), outputs, task);
        }
    }
}
