package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.StorePorts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * ZeRO 3's block-by-block passes really free what they gather, hold at most two blocks whole at once and gather no
 * block twice in a row: each gathered block's storage, captured while the block runs, is referenced by nothing
 * but the test's own handle once the stage's forward, and again its backward, are done (no parameter, slice view
 * or Java handle left in a scope keeps it), except the block a pass leaves gathered for the next one (forward's
 * last, which backward starts with, and backward's first); on two ranks in one JVM. Running a block outside a scope
 * of its own (the gathered bucket's handle then lives in the step's scope) fails it. A graph kept from forward does
 * not show here: this block's graph happens not to pin its weight's storage.
 */
class BlockGatheringPassesTest {

    private static final int BLOCKS = 3;
    private static final long WIDTH = 16;
    private static final long BLOCK_BYTES = WIDTH * WIDTH * Float.BYTES;

    /** What one rank saw: reference counts of each gathered storage after forward and after backward, and peaks. */
    private record Pass(
            List<Long> afterForward,
            List<Long> afterBackward,
            long afterStep,
            long distinctGathers,
            long peakWholeBytes) {}

    @Test
    void gathersAtMostTwoBlocksAtOnceFreesEachAfterItsPassAndReusesTheBlockAPassEndsWith() throws Exception {
        NativeRuntime.load();
        ExecutorService threads = Executors.newFixedThreadPool(1);
        int port = StorePorts.free();
        Future<ReplicaGroup> other = threads.submit(
                () -> new ReplicaGroup(DataParallelGroup.evenly(1, 2, "127.0.0.1", port), 1, () -> false));
        try (ReplicaGroup rankZero =
                        new ReplicaGroup(DataParallelGroup.evenly(0, 2, "127.0.0.1", port), 1, () -> false);
                ReplicaGroup rankOne = other.get(60, TimeUnit.SECONDS)) {
            Future<Pass> one = threads.submit(() -> forwardAndBackward(rankOne));
            for (Pass pass : List.of(forwardAndBackward(rankZero), one.get(60, TimeUnit.SECONDS))) {
                // forward gathers every block and keeps the last, which backward starts with instead of gathering it
                // again: 2 x BLOCKS - 1 gathers
                assertThat(pass.distinctGathers()).isEqualTo(2 * BLOCKS - 1);
                // after forward: every block's storage held by the test alone, but the last block's, still gathered
                assertThat(pass.afterForward().subList(0, BLOCKS - 1)).containsOnly(1L);
                assertThat(pass.afterForward().get(BLOCKS - 1)).isGreaterThan(1L);
                // after backward: all of them, but the first block's, left gathered for the next forward
                assertThat(pass.afterBackward().subList(0, 2 * BLOCKS - 2)).containsOnly(1L);
                assertThat(pass.afterBackward().get(2 * BLOCKS - 2)).isGreaterThan(1L);
                // the step's update releases it
                assertThat(pass.afterStep()).isEqualTo(1L);
                // the running block and the next one's all-gather in flight, never a third
                assertThat(pass.peakWholeBytes()).isEqualTo(2 * BLOCK_BYTES);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * One micro-batch through {@link #BLOCKS} blocks of one matrix each, then the update; for every distinct storage
     * a block ran with, how many references it has once each pass is over.
     */
    private static Pass forwardAndBackward(ReplicaGroup replicas) {
        List<Map<String, Tensor>> blocks = new ArrayList<>();
        for (int i = 0; i < BLOCKS; i++) {
            Generator generator = torch.make_generator_cpu(i + 1);
            Tensor weight = torch.randn(
                            new long[] {WIDTH, WIDTH}, new GeneratorOptional(generator), new TensorOptions())
                    .requires_grad_(true);
            blocks.add(Map.of("blocks." + i + ".weight", weight));
        }
        ShardedAdamW optimizer = new ShardedAdamW(blocks, 3, replicas, 0, name -> true);
        BlockGatheringPasses passes = new BlockGatheringPasses(BLOCKS, optimizer);
        // an alias of each distinct gathered storage (a tensor of its own, so that the parameter's later release
        // does not change what it refers to), held by the test
        List<Tensor> gathered = new ArrayList<>();
        List<Long> addresses = new ArrayList<>();
        BlockGatheringPasses.BlockRun run = (i, x) -> {
            Tensor weight = blocks.get(i).values().iterator().next();
            long address = weight.storage().data().address();
            if (!addresses.contains(address)) { // no address is reused while the test's alias holds it
                addresses.add(address);
                Tensor alias = weight.detach();
                alias.retainReference(); // outlives the block's scope, as the test's own handle
                gathered.add(alias);
            }
            Tensor y = x.matmul(weight.t()).tanh();
            return i == BLOCKS - 1 ? y.sum() : y;
        };
        List<Long> afterForward = new ArrayList<>();
        List<Long> afterBackward = new ArrayList<>();
        long afterStep;
        // counted inside the step's scope, which holds the block inputs and outputs: those must not pin a gather
        try (PointerScope step = new PointerScope()) {
            optimizer.beginStep();
            Tensor input = torch.ones(new long[] {4, WIDTH}, new TensorOptions());
            passes.forward(0, input, run, step);
            gathered.forEach(t -> afterForward.add(t.storage().use_count()));
            passes.backward(0, null, run, () -> {}, true, step);
            gathered.forEach(t -> afterBackward.add(t.storage().use_count()));
            optimizer.gradientSquares();
            optimizer.step(1, 1e-3, 0.0);
            afterStep = gathered.get(gathered.size() - 1).storage().use_count();
        }
        long peak = optimizer.peakWholeParameterBytes();
        gathered.forEach(Tensor::releaseReference);
        return new Pass(afterForward, afterBackward, afterStep, gathered.size(), peak);
    }
}
