package dev.trainyard.spec;

/**
 * Checks that a model can be trained on a data source: token models on token data, tabular models on rows
 * whose width and labels fit. Both sections are already checked on their own; these rules need the two together.
 */
final class ModelDataFit {
    /** Byte ids of the generated arithmetic lines are ASCII; text data may hold any byte. */
    private static final int ARITHMETIC_VOCAB = 128;

    private static final int TEXT_VOCAB = 256;

    private ModelDataFit() {}

    static boolean tokenData(DataSpec data) {
        return data instanceof DataSpec.Arithmetic || data instanceof DataSpec.Text;
    }

    static void check(ModelSpec model, DataSpec data, Violations v) {
        if (model instanceof ModelSpec.Gpt gpt) {
            checkGpt(gpt, data, v);
        } else if (model instanceof ModelSpec.Mlp mlp) {
            if (tokenData(data)) {
                v.add(
                        "data.type",
                        "must be synthetic-tabular, jsonl or csv for an mlp model, was '" + data.type() + "'");
            } else {
                checkTabular(mlp.inputs(), mlp.outputs(), mlp.task(), data, v);
            }
        } else if (model instanceof ModelSpec.TorchScript script) {
            checkTorchScript(script, data, v);
        }
    }

    private static void checkGpt(ModelSpec.Gpt gpt, DataSpec data, Violations v) {
        if (!tokenData(data)) {
            v.add("data.type", "must be arithmetic or text for a gpt model, was '" + data.type() + "'");
            return;
        }
        int needed = data instanceof DataSpec.Text ? TEXT_VOCAB : ARITHMETIC_VOCAB;
        if (gpt.vocab() != null && gpt.vocab() < needed) {
            v.add("model.vocab", "must be at least " + needed + " for the byte tokens of " + data.type() + " data");
        }
    }

    private static void checkTorchScript(ModelSpec.TorchScript script, DataSpec data, Violations v) {
        if (tokenData(data)) {
            if (script.seqLen() == null) {
                v.add("model.seqLen", "is required for a torchscript model on " + data.type() + " data");
            }
            return;
        }
        v.require("model.inputs", script.inputs());
        v.require("model.outputs", script.outputs());
        checkTabular(script.inputs(), script.outputs(), script.task(), data, v);
    }

    private static void checkTabular(Integer inputs, Integer outputs, String task, DataSpec data, Violations v) {
        if (outputs != null && "classification".equals(task) && outputs < 2) {
            v.add("model.outputs", "must be at least 2 for classification, was " + outputs);
        }
        if (outputs != null && "regression".equals(task) && outputs != 1) {
            v.add("model.outputs", "must be 1 for regression, was " + outputs);
        }
        if (data instanceof DataSpec.Table table
                && inputs != null
                && table.features() != null
                && table.features().size() != inputs) {
            v.add("data.features", "names " + table.features().size() + " columns but model.inputs is " + inputs);
        }
    }
}
