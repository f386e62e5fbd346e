package dev.trainyard.spec;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.DiscriminatorMapping;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Where training data comes from; {@code evalFraction} of it is held out for evaluation. */
@JsonTypeInfo(
        use = JsonTypeInfo.Id.NAME,
        include = JsonTypeInfo.As.EXISTING_PROPERTY,
        property = "type",
        visible = true)
@JsonSubTypes({
    @JsonSubTypes.Type(value = DataSpec.Arithmetic.class, name = "arithmetic"),
    @JsonSubTypes.Type(value = DataSpec.Text.class, name = "text"),
    @JsonSubTypes.Type(value = DataSpec.Table.class, name = "jsonl"),
    @JsonSubTypes.Type(value = DataSpec.Table.class, name = "csv"),
    @JsonSubTypes.Type(value = DataSpec.SyntheticTabular.class, name = "synthetic-tabular")
})
@Schema(
        name = "DataSpec",
        oneOf = {DataSpec.Arithmetic.class, DataSpec.Text.class, DataSpec.Table.class, DataSpec.SyntheticTabular.class},
        discriminatorProperty = "type",
        discriminatorMapping = {
            @DiscriminatorMapping(value = "arithmetic", schema = DataSpec.Arithmetic.class),
            @DiscriminatorMapping(value = "text", schema = DataSpec.Text.class),
            @DiscriminatorMapping(value = "jsonl", schema = DataSpec.Table.class),
            @DiscriminatorMapping(value = "csv", schema = DataSpec.Table.class),
            @DiscriminatorMapping(value = "synthetic-tabular", schema = DataSpec.SyntheticTabular.class)
        })
public sealed interface DataSpec permits DataSpec.Arithmetic, DataSpec.Text, DataSpec.Table, DataSpec.SyntheticTabular {

    String type();

    Double evalFraction();

    /** Generated lines such as {@code 12+35=47}, deterministic by seed. */
    @Schema(name = "ArithmeticData")
    record Arithmetic(
            @Schema(required = true, enumeration = "arithmetic")
            String type,

            @Schema(description = "Seed of the generated data", minimum = "0", maximum = "9223372036854775807")
            Long seed,

            @Schema(
                    description = "Share held out for evaluation (default " + SpecDefaults.EVAL_FRACTION + ")",
                    minimum = "0",
                    exclusiveMinimum = true,
                    maximum = "0.5",
                    exclusiveMaximum = true)
            Double evalFraction)
            implements DataSpec {}

    /** Byte-level text from a file or http(s) URI. */
    @Schema(name = "TextData")
    record Text(
            @Schema(required = true, enumeration = "text") String type,
            @Schema(required = true) String uri,

            @Schema(
                    description = "Share held out for evaluation (default " + SpecDefaults.EVAL_FRACTION + ")",
                    minimum = "0",
                    exclusiveMinimum = true,
                    maximum = "0.5",
                    exclusiveMaximum = true)
            Double evalFraction)
            implements DataSpec {}

    /** Rows of a JSONL or CSV file: feature columns and a label column, for the MLP. */
    @Schema(name = "TableData")
    record Table(
            @Schema(
                    required = true,
                    enumeration = {"jsonl", "csv"})
            String type,

            @Schema(required = true) String uri,
            @Schema(required = true) List<String> features,
            @Schema(required = true) String label,

            @Schema(
                    description = "Share held out for evaluation (default " + SpecDefaults.EVAL_FRACTION + ")",
                    minimum = "0",
                    exclusiveMinimum = true,
                    maximum = "0.5",
                    exclusiveMaximum = true)
            Double evalFraction)
            implements DataSpec {}

    /** Generated tabular rows for the MLP, deterministic by seed. */
    @Schema(name = "SyntheticTabularData")
    record SyntheticTabular(
            @Schema(required = true, enumeration = "synthetic-tabular")
            String type,

            @Schema(description = "Seed of the generated data", minimum = "0", maximum = "9223372036854775807")
            Long seed,

            @Schema(description = "Rows generated", minimum = "16", maximum = "10000000")
            Integer rows,

            @Schema(
                    description = "Share held out for evaluation (default " + SpecDefaults.EVAL_FRACTION + ")",
                    minimum = "0",
                    exclusiveMinimum = true,
                    maximum = "0.5",
                    exclusiveMaximum = true)
            Double evalFraction)
            implements DataSpec {}
}
