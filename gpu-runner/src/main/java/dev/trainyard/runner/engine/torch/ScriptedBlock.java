package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.SpecException;
import java.util.Arrays;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NamedTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.module_iterator;
import org.bytedeco.pytorch.module_list;
import org.bytedeco.pytorch.named_buffer_iterator;
import org.bytedeco.pytorch.named_buffer_list;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;

/**
 * One top-level child of a loaded TorchScript module, run as a block. Its parameters are the module's own
 * tensors (so the optimizer's in-place updates are what the module computes with and what it saves), named
 * {@code blocks.<position>.<name inside the child>} whatever the child is called.
 *
 * <p>Each block is called from one thread at a time (the profiling pass, then its stage's thread), and
 * children are distinct module objects, so stages may run their children concurrently.
 */
final class ScriptedBlock extends ModelBlock {

    private static final int MESSAGE_LINES = 12;

    private final String childName;
    private final JitModule module;
    private final boolean modeSwitchable;
    private boolean training;

    ScriptedBlock(int index, String childName, JitModule module) {
        super(index, 0);
        this.childName = childName;
        this.module = module;
        this.modeSwitchable = everyModuleHasTrainingFlag(module);
        this.training = module.is_training();
        adoptTensors();
    }

    /** The child's name in the file ({@code "0"} for the first child of a scripted {@code nn.Sequential}). */
    String childName() {
        return childName;
    }

    /** The child's TorchScript class, for messages and the plan. */
    String typeName() {
        return module.type().str().getString();
    }

    @Override
    Tensor forward(Tensor input, ForwardPass pass) {
        setTraining(pass.training());
        // With graph optimisation on, the executor re-specialises a method after a few profiled runs (and may
        // form autodiff subgraphs with their own gradient formulas). Off, every call interprets the same graph
        // and autograd records each op as for the built-in blocks, so results cannot depend on how often a
        // block has run before (the profiling pass, a resumed process). Set on every call: stage threads differ.
        torch.setGraphExecutorOptimize(false);
        IValueVector arguments = new IValueVector();
        arguments.push_back(new IValue(input));
        IValue output;
        try {
            output = module.forward(arguments);
        } catch (RuntimeException e) {
            throw new SpecException(
                    describe() + " failed on an input of shape " + Arrays.toString(Tensors.shape(input)) + ": "
                            + shortMessage(e.getMessage()),
                    e);
        }
        if (!output.isTensor()) {
            throw new SpecException(describe() + " returned a "
                    + output.tagKind().getString() + ", not a tensor: each block must map one tensor to one tensor");
        }
        return output.toTensor();
    }

    @Override
    void moveTo(Device device) {
        if (device.is_cpu()) {
            return;
        }
        module.to(device);
        adoptTensors();
    }

    /** "block 1 ('1', __torch__.ResidualMlp)" */
    String describe() {
        return "block " + index() + " ('" + childName + "', " + typeName() + ")";
    }

    /**
     * Takes the module's parameters and buffers by name. Every parameter trains, whatever requires_grad flag
     * the file stored (modules built outside Python often store false): the optimizer and checkpoint keep all
     * of them by name.
     */
    private void adoptTensors() {
        named_parameter_list list = module.named_parameters(true);
        for (named_parameter_iterator it = list.begin(); it.notEquals(list.end()); it = it.increment()) {
            NamedTensor named = it.access();
            // value() points into the list's storage, which dies with the list: copy the handle (same tensor).
            Tensor parameter = new Tensor(named.value());
            if (!parameter.requires_grad()) {
                parameter.requires_grad_(true);
            }
            adoptParameter(named.name().getString(), parameter);
        }
        // Buffers are the module's own tensors too: forward updates them in place, and a checkpoint restores them.
        named_buffer_list buffers = module.named_buffers(true);
        for (named_buffer_iterator it = buffers.begin(); it.notEquals(buffers.end()); it = it.increment()) {
            NamedTensor named = it.access();
            adoptBuffer(named.name().getString(), new Tensor(named.value()));
        }
    }

    private void setTraining(boolean on) {
        if (modeSwitchable && training != on) {
            module.train(on);
            training = on;
        }
    }

    /** {@code train(bool)} asserts on a module without a {@code training} attribute (possible outside Python). */
    private static boolean everyModuleHasTrainingFlag(JitModule root) {
        module_list modules = root.modules();
        for (module_iterator it = modules.begin(); it.notEquals(modules.end()); it = it.increment()) {
            if (!it.access().hasattr("training")) {
                return false;
            }
        }
        return true;
    }

    /** The TorchScript error without the C++ stack that libtorch appends. */
    static String shortMessage(String message) {
        if (message == null) {
            return "(no message)";
        }
        StringBuilder kept = new StringBuilder();
        int lines = 0;
        for (String line : message.strip().split("\n")) {
            if (line.startsWith("Exception raised from") || line.startsWith("frame #") || lines++ == MESSAGE_LINES) {
                break;
            }
            kept.append(kept.length() == 0 ? "" : "\n").append(line);
        }
        return kept.toString().strip();
    }
}
