package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.Batch;
import dev.trainyard.runner.engine.SpecException;
import dev.trainyard.runner.engine.TabularBatch;
import dev.trainyard.runner.engine.TokenBatch;
import dev.trainyard.spec.BlockLayout;
import dev.trainyard.spec.ModelLayout;
import dev.trainyard.spec.ModelSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NamedJitModule;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.named_module_iterator;
import org.bytedeco.pytorch.named_module_list;

/**
 * A user's TorchScript module, loaded from a file and cut into its top-level children, in order: the blocks
 * the engine applies one after the other (the root's own {@code forward} is not run). Weights are the
 * file's; the trained module can be saved back as TorchScript.
 */
final class ScriptedModel {

    private final Path file;
    private final JitModule root;
    private final List<ScriptedBlock> blocks;

    private ScriptedModel(Path file, JitModule root, List<ScriptedBlock> blocks) {
        this.file = file;
        this.root = root;
        this.blocks = blocks;
    }

    /** Loads {@code file}; throws {@link SpecException} when it is no TorchScript module or has no children. */
    static ScriptedModel load(Path file) {
        NativeRuntime.load();
        JitModule root;
        try {
            root = torch.load(file.toString());
        } catch (RuntimeException e) {
            throw new SpecException(
                    "model.uri: " + file.getFileName() + " is not a loadable TorchScript module: "
                            + ScriptedBlock.shortMessage(e.getMessage()),
                    e);
        }
        if (root.named_parameters(false).size() > 0) {
            throw new SpecException("model.uri: the TorchScript module in " + file.getFileName() + " has parameters of"
                    + " its own; only its top-level children are run, so its top level must be a plain sequence of blocks"
                    + " (e.g. torch.jit.script(nn.Sequential(...)))");
        }
        List<ScriptedBlock> blocks = new ArrayList<>();
        named_module_list children = root.named_children();
        for (named_module_iterator it = children.begin(); it.notEquals(children.end()); it = it.increment()) {
            NamedJitModule child = it.access();
            // value() points into the list's storage, which dies with the list: copy the handle (same module).
            blocks.add(new ScriptedBlock(blocks.size(), child.name().getString(), new JitModule(child.value())));
        }
        if (blocks.isEmpty()) {
            throw new SpecException(
                    "model.uri: the TorchScript module in " + file.getFileName() + " has no child"
                            + " modules; its top level must be a sequence of blocks (e.g. torch.jit.script(nn.Sequential(...)))");
        }
        return new ScriptedModel(file, root, blocks);
    }

    List<ModelBlock> blocks() {
        return List.copyOf(blocks);
    }

    /**
     * True when any method of the module calls a dropout operator. Its masks come from libtorch's global
     * generator, which the engine cannot seed per (step, micro-batch, block) as it does for its own models.
     */
    boolean containsDropout() {
        return root.dump_to_str(true, false, false).getString().contains("dropout");
    }

    /** Writes the module, with the current weights, as TorchScript. */
    void save(Path target) {
        root.save(target.toString());
    }

    /**
     * Runs one micro-batch through every block without autograd, on the CPU, and returns the layout the planner
     * needs: parameter counts, and each block's output size per sample. What a block keeps for backward is
     * unknown from outside; its output size stands in for it, a lower bound. Fails with a message naming the
     * block when a block rejects its input, or when the last output does not fit the loss.
     */
    ModelLayout probe(ModelSpec.TorchScript spec, LossFunction lossFunction, Batch sample) {
        List<BlockLayout> layouts = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            Tensors.withoutGrad(() -> runProbe(spec, lossFunction, sample, layouts));
        }
        return new ModelLayout(layouts);
    }

    private void runProbe(
            ModelSpec.TorchScript spec, LossFunction lossFunction, Batch sample, List<BlockLayout> layouts) {
        Tensor x = lossFunction.inputs(sample, NativeRuntime.device("cpu"));
        for (ScriptedBlock block : blocks) {
            x = block.forward(x, ForwardPass.evaluation());
            long perSample = x.numel() / Math.max(1, sample.rows());
            long params = block.parameters().values().stream()
                    .mapToLong(Tensor::numel)
                    .sum();
            layouts.add(new BlockLayout(
                    block.index(),
                    "torchscript " + block.childName() + " (" + block.typeName() + ")",
                    params,
                    perSample,
                    perSample));
        }
        requireFitsLoss(spec, x, sample);
        lossFunction.loss(x, sample);
    }

    private void requireFitsLoss(ModelSpec.TorchScript spec, Tensor output, Batch sample) {
        long[] shape = Tensors.shape(output);
        String got = "the module's output has shape " + Arrays.toString(shape) + " for " + sample.rows() + " rows";
        if (sample instanceof TokenBatch tokens) {
            require(
                    shape.length == 3 && shape[0] == tokens.rows() && shape[1] == tokens.seqLen(),
                    got + "; next-token training needs logits [rows, seqLen, vocab] = [" + tokens.rows() + ", "
                            + tokens.seqLen() + ", V]");
            long needed = Arrays.stream(tokens.targets()).max().orElse(0) + 1;
            require(
                    shape[2] >= needed,
                    got + "; the data has token ids up to " + (needed - 1)
                            + ", so the vocabulary (last dimension) must be at least " + needed);
        } else if (spec.classification()) {
            require(
                    shape.length == 2 && shape[0] == sample.rows() && shape[1] == spec.outputs(),
                    got + "; classification needs class scores [rows, model.outputs] = [" + sample.rows() + ", "
                            + spec.outputs() + "]");
        } else {
            require(
                    output.numel() == ((TabularBatch) sample).rows() && shape.length >= 1 && shape[0] == sample.rows(),
                    got + "; regression needs one value per row ([rows] or [rows, 1])");
        }
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new SpecException(message);
        }
    }

    @Override
    public String toString() {
        return file.getFileName() + " (" + blocks.size() + " blocks)";
    }
}
