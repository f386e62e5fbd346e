package dev.trainyard.runner.engine.torch;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.BoolType;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Type;

/**
 * Builds small TorchScript modules from Java (register_parameter, register_module, define) and saves them as
 * {@code .pt} files for the engine's tests, so no binary has to be committed. Weights are drawn from a
 * seeded generator: the same file content for the same arguments.
 */
public final class TorchScriptModules {

    private TorchScriptModules() {}

    /** Ids [B, T] to logits [B, T, vocab]: children "embed", "mlp" (residual GELU MLP) and "head". */
    public static Path tokenModel(Path file, int vocab, int width) {
        NativeRuntime.load();
        SplittableRandom random = new SplittableRandom(17);
        JitModule embed = embedding(random, vocab, width);
        JitModule mlp = module("ResidualMlp");
        mlp.register_parameter("up_weight", normal(random, 1 / Math.sqrt(width), 2L * width, width), false);
        mlp.register_parameter("up_bias", normal(random, 0.0, 2L * width), false);
        mlp.register_parameter("down_weight", normal(random, 0.5 / Math.sqrt(2.0 * width), width, 2L * width), false);
        mlp.define("""
        def forward(self, x):
            h = torch.gelu(torch.linear(x, self.up_weight, self.up_bias))
            return x + torch.linear(h, self.down_weight)
        """);
        return save(chain("TokenModel", embed, "mlp", mlp, linearModule("Head", random, width, vocab, false)), file);
    }

    /**
     * Like {@link #tokenModel} with, instead of the MLP, a child "center" that keeps state in buffers, as a
     * batch norm does: training subtracts the batch mean and folds it into {@code running_mean} (float) while
     * counting calls in {@code updates} (int64); evaluation subtracts {@code running_mean}.
     */
    public static Path tokenModelWithRunningMean(Path file, int vocab, int width) {
        NativeRuntime.load();
        SplittableRandom random = new SplittableRandom(29);
        JitModule embed = embedding(random, vocab, width);
        JitModule center = module("RunningCenter");
        center.register_attribute("training", new Type.TypePtr(BoolType.get().get()), new IValue(true), false, false);
        center.register_buffer("running_mean", Tensor.create(new float[width], width));
        center.register_buffer("updates", Tensor.create(new long[] {0}, 1));
        center.define("""
        def forward(self, x):
            if self.training:
                mean = x.mean([0, 1]).detach()
                self.running_mean.mul_(0.9).add_(mean, alpha=0.1)
                self.updates.add_(1)
                return x - mean
            return x - self.running_mean
        """);
        return save(
                chain("CenteredTokenModel", embed, "center", center, linearModule("Head", random, width, vocab, false)),
                file);
    }

    /** Token ids to vectors: child "embed" of the token models. */
    private static JitModule embedding(SplittableRandom random, int vocab, int width) {
        JitModule embed = module("Embed");
        embed.register_parameter("weight", normal(random, 0.5, vocab, width), false);
        embed.define("""
        def forward(self, ids):
            return torch.embedding(self.weight, ids)
        """);
        return embed;
    }

    /** A root of type {@code type} with children "embed", {@code middleName} and "head", applied in turn. */
    private static JitModule chain(String type, JitModule embed, String middleName, JitModule middle, JitModule head) {
        JitModule root = module(type);
        root.register_module("embed", embed);
        root.register_module(middleName, middle);
        root.register_module("head", head);
        root.define("""
        def forward(self, ids):
            return self.head.forward(self.%s.forward(self.embed.forward(ids)))
        """.formatted(middleName));
        return root;
    }

    /**
     * Features [B, inputs] to [B, outputs]: children "0", "1", ... as a scripted {@code nn.Sequential} names
     * them, one GELU layer per hidden width and a linear output layer; with {@code dropout}, a dropout child
     * (p = 0.1) follows the first layer.
     */
    public static Path tabularModel(Path file, int inputs, int[] hidden, int outputs, boolean dropout) {
        NativeRuntime.load();
        SplittableRandom random = new SplittableRandom(23);
        JitModule root = module("TabularModel");
        int in = inputs;
        int child = 0;
        for (int width : hidden) {
            root.register_module(String.valueOf(child++), linearModule("Hidden" + child, random, in, width, true));
            if (dropout && child == 1) {
                JitModule drop = module("Dropout");
                drop.register_attribute(
                        "training", new Type.TypePtr(BoolType.get().get()), new IValue(true), false, false);
                drop.define("""
            def forward(self, x):
                return torch.dropout(x, 0.1, self.training)
            """);
                root.register_module(String.valueOf(child++), drop);
            }
            in = width;
        }
        root.register_module(String.valueOf(child), linearModule("Output", random, in, outputs, false));
        return save(root, file);
    }

    /** A module without children (a forward of its own only): not a sequence of blocks. */
    public static Path moduleWithoutChildren(Path file) {
        NativeRuntime.load();
        JitModule root = module("Flat");
        root.define("""
        def forward(self, x):
            return x * 2.0
        """);
        return save(root, file);
    }

    private static JitModule linearModule(String name, SplittableRandom random, int in, int out, boolean gelu) {
        JitModule linear = module(name);
        linear.register_parameter("weight", normal(random, 1 / Math.sqrt(in), out, in), false);
        linear.register_parameter("bias", normal(random, 0.0, out), false);
        linear.define(gelu ? """
        def forward(self, x):
            return torch.gelu(torch.linear(x, self.weight, self.bias))
        """ : """
        def forward(self, x):
            return torch.linear(x, self.weight, self.bias)
        """);
        return linear;
    }

    private static JitModule module(String name) {
        return new JitModule(new QualifiedName(name));
    }

    private static Tensor normal(SplittableRandom random, double std, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] values = new float[(int) n];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * std);
        }
        return Tensor.create(values, shape);
    }

    private static Path save(JitModule root, Path file) {
        root.save(file.toString());
        return file;
    }
}
