package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.junit.jupiter.api.Test;

/**
 * The bounds and words in the spec's {@code @Schema} annotations (which the OpenAPI document shows) are exactly what
 * {@link JobSpecValidator} enforces: for every annotated component, a value just outside is refused with the
 * annotation's rule and the values at the edges are not refused for it. A new record or component with bounds that
 * no spec here can reach fails the test, so the document and the validation cannot drift apart.
 */
class SchemaBoundsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String MLP = """
            {"name": "tab", "resources": {"pool": "cpu", "gpus": 1},
             "model": {"type": "mlp", "inputs": 4, "hidden": [8], "outputs": 2},
             "data": {"type": "synthetic-tabular"},
             "training": {"steps": 200}}""";

    /** Each record with bounds: the spec it is checked in and where it sits there. */
    private record Host(String spec, String at) {}

    private static final Map<Class<? extends Record>, Host> HOSTS = new LinkedHashMap<>();

    static {
        HOSTS.put(JobSpec.class, new Host(JobSpecValidatorTest.MINIMAL, ""));
        HOSTS.put(Resources.class, new Host(JobSpecValidatorTest.MINIMAL, "resources"));
        HOSTS.put(Limits.class, new Host(JobSpecValidatorTest.MINIMAL, "limits"));
        HOSTS.put(TrainingSpec.class, new Host(JobSpecValidatorTest.MINIMAL, "training"));
        HOSTS.put(ParallelismSpec.class, new Host(JobSpecValidatorTest.MINIMAL, "parallelism"));
        HOSTS.put(CheckpointPolicy.class, new Host(JobSpecValidatorTest.MINIMAL, "checkpoint"));
        HOSTS.put(ModelSpec.Gpt.class, new Host(JobSpecValidatorTest.MINIMAL, "model"));
        HOSTS.put(ModelSpec.Mlp.class, new Host(MLP, "model"));
        HOSTS.put(
                ModelSpec.TorchScript.class,
                new Host(
                        JobSpecValidatorTest.MINIMAL.replace(
                                "{\"type\": \"gpt\", \"layers\": 1, \"dModel\": 16, \"heads\": 2, \"seqLen\": 8}",
                                "{\"type\": \"torchscript\", \"uri\": \"file:/m.pt\", \"seqLen\": 8}"),
                        "model"));
        HOSTS.put(DataSpec.Arithmetic.class, new Host(JobSpecValidatorTest.MINIMAL, "data"));
        HOSTS.put(
                DataSpec.Text.class,
                new Host(
                        JobSpecValidatorTest.MINIMAL.replace(
                                "{\"type\": \"arithmetic\"}", "{\"type\": \"text\", \"uri\": \"file:/d.txt\"}"),
                        "data"));
        HOSTS.put(
                DataSpec.Table.class,
                new Host(
                        MLP.replace(
                                "{\"type\": \"synthetic-tabular\"}",
                                "{\"type\": \"csv\", \"uri\": \"file:/d.csv\", \"features\": [\"a\"], \"label\": \"y\"}"),
                        "data"));
        HOSTS.put(DataSpec.SyntheticTabular.class, new Host(MLP, "data"));
    }

    @Test
    void everyRecordWithBoundsIsChecked() {
        List<Class<?>> records = new ArrayList<>(List.of(
                JobSpec.class,
                Resources.class,
                Limits.class,
                TrainingSpec.class,
                ParallelismSpec.class,
                CheckpointPolicy.class));
        records.addAll(List.of(ModelSpec.class.getPermittedSubclasses()));
        records.addAll(List.of(DataSpec.class.getPermittedSubclasses()));
        for (Class<?> record : records) {
            if (!bounded(record).isEmpty()) {
                assertThat(HOSTS.keySet())
                        .as("a spec that reaches " + record.getSimpleName())
                        .contains(record.asSubclass(Record.class));
            }
        }
    }

    @Test
    void theValidatorEnforcesEveryDeclaredRangeAndNothingNarrower() throws Exception {
        List<String> drift = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<Class<? extends Record>, Host> host : HOSTS.entrySet()) {
            for (RecordComponent c : bounded(host.getKey())) {
                SchemaBounds bounds = SchemaBounds.of(host.getKey(), c.getName());
                String field = host.getValue().at().isEmpty()
                        ? c.getName()
                        : host.getValue().at() + "." + c.getName();
                if (!bounds.allowed().isEmpty()) {
                    for (String word : bounds.allowed()) {
                        expect(drift, host.getValue(), c, word, field, "must be one of", false);
                    }
                    expect(drift, host.getValue(), c, "no-such-word", field, "must be one of", true);
                    checked++;
                    continue;
                }
                String rule = "must be " + bounds.describeRange();
                if (bounds.minimum() != null) {
                    Number edge = number(c, bounds.minimum());
                    expect(drift, host.getValue(), c, edge, field, rule, bounds.exclusiveMinimum());
                    expect(drift, host.getValue(), c, below(c, bounds.minimum()), field, rule, true);
                }
                if (bounds.maximum() != null) {
                    Number edge = number(c, bounds.maximum());
                    expect(drift, host.getValue(), c, edge, field, rule, bounds.exclusiveMaximum());
                    if (above(c, bounds.maximum()) != null) {
                        expect(drift, host.getValue(), c, above(c, bounds.maximum()), field, rule, true);
                    }
                }
                checked++;
            }
        }

        assertThat(drift)
                .as("components whose document bounds and validation differ")
                .isEmpty();
        assertThat(checked).as("bounded components checked").isGreaterThan(40);
    }

    private static void expect(
            List<String> drift, Host host, RecordComponent c, Object value, String field, String rule, boolean refused)
            throws Exception {
        ObjectNode spec = (ObjectNode) JSON.readTree(host.spec());
        ObjectNode parent = host.at().isEmpty() ? spec : spec.with(host.at());
        parent.set(c.getName(), JSON.valueToTree(value));
        List<FieldViolation> found;
        try {
            JobSpecValidator.normalize(SpecDocument.parse(JSON.writeValueAsString(spec)));
            found = List.of();
        } catch (InvalidFieldsException e) {
            found = e.violations();
        }
        boolean ruled = found.stream()
                .anyMatch(v -> v.field().equals(field) && v.message().startsWith(rule));
        if (ruled != refused) {
            drift.add(field + " = " + value + ": expected " + (refused ? "" : "no ") + "'" + rule + "', got " + found);
        }
    }

    private static List<RecordComponent> bounded(Class<?> record) {
        List<RecordComponent> out = new ArrayList<>();
        for (RecordComponent c : record.getRecordComponents()) {
            Schema s = c.getAccessor().getAnnotation(Schema.class);
            if (s != null
                    && (!s.minimum().isEmpty() || !s.maximum().isEmpty() || s.enumeration().length > 0)
                    && !c.getName().equals("type")) {
                out.add(c);
            }
        }
        return out;
    }

    private static boolean integral(RecordComponent c) {
        return c.getType() == Integer.class || c.getType() == Long.class;
    }

    private static Number number(RecordComponent c, double v) {
        if (integral(c)) {
            return c.getType() == Integer.class ? (Number) (int) v : (Number) (long) v;
        }
        return c.getType() == BigDecimal.class ? BigDecimal.valueOf(v) : (Number) v;
    }

    private static Number below(RecordComponent c, double min) {
        return integral(c) ? (Number) ((long) min - 1) : (Number) (min == 0 ? -0.001 : min - Math.abs(min) / 2);
    }

    /** A value just above the maximum, or null when the maximum is the type's own. */
    private static Number above(RecordComponent c, double max) {
        if (c.getType() == Integer.class) {
            return max >= Integer.MAX_VALUE ? null : (Number) ((long) max + 1);
        }
        if (c.getType() == Long.class) {
            return max >= Long.MAX_VALUE ? null : (Number) ((long) max + 1);
        }
        return max + Math.max(Math.abs(max) / 100, 0.001);
    }
}
