package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.ShardLayout;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One block of a model with its own parameter tensors, named globally ({@code blocks.3.attn.qkv.weight}) so
 * the names do not depend on how blocks are cut into stages. Parameters are initialised from generators
 * seeded by (seed, name): the same model for any stage count or thread count.
 */
abstract class ModelBlock {

    private final int index;
    private final long seed;
    private final TensorParallelRank tensorParallel;
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, ShardLayout> shards = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();

    ModelBlock(int index, long seed) {
        this(index, seed, TensorParallelRank.SINGLE);
    }

    /** A block holding {@code tensorParallel}'s slice of each split parameter. */
    ModelBlock(int index, long seed, TensorParallelRank tensorParallel) {
        this.index = index;
        this.seed = seed;
        this.tensorParallel = tensorParallel;
    }

    TensorParallelRank tensorParallel() {
        return tensorParallel;
    }

    /**
     * Global name to how the parameter is split across the tensor-parallel group, for the split ones only: the
     * others are whole, and the same, on every rank.
     */
    Map<String, ShardLayout> shards() {
        return Collections.unmodifiableMap(shards);
    }

    int index() {
        return index;
    }

    /** Global name to parameter, in registration order. */
    Map<String, Tensor> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /**
     * Global name to buffer: state a block keeps besides its parameters and may update in forward (running
     * statistics of a normalisation, a step counter). Checkpoints carry it so a resumed run evaluates the same.
     */
    Map<String, Tensor> buffers() {
        return Collections.unmodifiableMap(buffers);
    }

    /** Runs the block; {@code pass} says whether it trains and which dropout stream to use. */
    abstract Tensor forward(Tensor input, ForwardPass pass);

    /** Moves every parameter to {@code device}, keeping them leaves that require grad. */
    void moveTo(Device device) {
        if (device.is_cpu()) {
            return;
        }
        parameters.replaceAll(
                (name, p) -> p.to(device, p.scalar_type()).detach().requires_grad_(true));
    }

    final Tensor normalParameter(String localName, double std, long... shape) {
        return normalParameter(localName, std, null, shape);
    }

    /**
     * A parameter drawn whole from its seed, then cut to this rank's slice when {@code layout} is not null: every
     * group size starts from the same whole weights.
     */
    final Tensor normalParameter(String localName, double std, ShardLayout layout, long... shape) {
        String name = globalName(localName);
        SplittableRandom random = new SplittableRandom(seed ^ name.hashCode() * 0x9E3779B97F4A7C15L);
        float[] values = new float[(int) elements(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * std);
        }
        return registerSlice(name, values, shape, layout);
    }

    final Tensor constantParameter(String localName, float value, long... shape) {
        return constantParameter(localName, value, null, shape);
    }

    final Tensor constantParameter(String localName, float value, ShardLayout layout, long... shape) {
        float[] values = new float[(int) elements(shape)];
        java.util.Arrays.fill(values, value);
        return registerSlice(globalName(localName), values, shape, layout);
    }

    private Tensor registerSlice(String name, float[] values, long[] shape, ShardLayout layout) {
        if (layout == null || !tensorParallel.split()) {
            return register(name, values, shape);
        }
        shards.put(name, layout);
        int ranks = tensorParallel.size();
        return register(
                name, layout.slice(values, shape, tensorParallel.rank(), ranks), layout.sliceShape(shape, ranks));
    }

    /** Registers a tensor the block already holds (a loaded module's parameter) under its global name. */
    final void adoptParameter(String localName, Tensor tensor) {
        parameters.put(globalName(localName), tensor);
    }

    /** Registers a buffer the block already holds (a loaded module's buffer) under its global name. */
    final void adoptBuffer(String localName, Tensor tensor) {
        buffers.put(globalName(localName), tensor);
    }

    final Tensor parameter(String localName) {
        return parameters.get(globalName(localName));
    }

    /** Inverted dropout with a mask drawn from a generator seeded per (step, micro-batch, block, site). */
    final Tensor dropout(Tensor x, double p, ForwardPass pass, int site) {
        if (p == 0 || !pass.training()) {
            return x;
        }
        Generator generator = torch.make_generator_cpu(pass.dropoutSeed(index, site));
        // The mask is drawn on the CPU from a detached template: bernoulli has no derivative, and a CPU
        // generator gives the same mask on any device.
        Tensor template = x.detach();
        Tensor mask = torch.bernoulli(
                template.is_cuda() ? template.cpu() : template, 1 - p, new GeneratorOptional(generator));
        return x.mul(Tensors.on(mask, x.device())).div(new Scalar(1 - p));
    }

    private String globalName(String localName) {
        return "blocks." + index + "." + localName;
    }

    private Tensor register(String name, float[] values, long[] shape) {
        Tensor tensor = Tensor.create(values, shape).requires_grad_(true);
        parameters.put(name, tensor);
        return tensor;
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
