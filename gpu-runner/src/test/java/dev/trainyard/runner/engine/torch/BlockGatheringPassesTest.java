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
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * ZeRO 3's block-by-block passes really free what they gather: each gathered block's storage, captured while the
 * block runs, is referenced by nothing but the test's own handle once the stage's forward, and again its
 * backward, are done (no parameter, slice view or Java handle left in a scope keeps it), on two ranks in one JVM.
 * Running a block outside a scope of its own (the gathered bucket's handle then lives in the step's scope) fails
 * it. A graph kept from forward does not show here: this block's graph happens not to pin its weight's storage.
 */
class BlockGatheringPassesTest {

    private static final int BLOCKS = 3;
    private static final long WIDTH = 16;

    @Test
    void noGatheredStorageOutlivesItsBlockInForwardOrBackward() throws Exception {
        NativeRuntime.load();
        ExecutorService threads = Executors.newFixedThreadPool(1);
        int port = StorePorts.free();
        Future<ReplicaGroup> other = threads.submit(
                () -> new ReplicaGroup(DataParallelGroup.evenly(1, 2, "127.0.0.1", port), 1, () -> false));
        try (ReplicaGroup rankZero =
                        new ReplicaGroup(DataParallelGroup.evenly(0, 2, "127.0.0.1", port), 1, () -> false);
                ReplicaGroup rankOne = other.get(60, TimeUnit.SECONDS)) {
            Future<List<Long>> one = threads.submit(() -> forwardAndBackward(rankOne));
            List<Long> counts = forwardAndBackward(rankZero);
            // forward and backward gather each block once: 2 x BLOCKS storages, each now held by the test alone
            assertThat(counts).hasSize(2 * BLOCKS).containsOnly(1L);
            assertThat(one.get(60, TimeUnit.SECONDS)).hasSize(2 * BLOCKS).containsOnly(1L);
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * One micro-batch through {@link #BLOCKS} blocks of one matrix each; returns, for every gather, how many
     * references the gathered storage has once the pass is over.
     */
    private static List<Long> forwardAndBackward(ReplicaGroup replicas) {
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
        List<Storage> gathered = new ArrayList<>();
        BlockGatheringPasses.BlockRun run = (i, x) -> {
            Tensor weight = blocks.get(i).values().iterator().next();
            Storage storage = weight.storage();
            storage.retainReference(); // outlives the block's scope, as the test's own handle
            gathered.add(storage);
            Tensor y = x.matmul(weight.t()).tanh();
            return i == BLOCKS - 1 ? y.sum() : y;
        };
        List<Long> counts = new ArrayList<>();
        // counted inside the step's scope, which holds the block inputs and outputs: those must not pin a gather
        try (PointerScope step = new PointerScope()) {
            optimizer.beginStep();
            Tensor input = torch.ones(new long[] {4, WIDTH}, new TensorOptions());
            passes.forward(0, input, run, step);
            gathered.forEach(s -> counts.add(s.use_count()));
            passes.backward(0, null, run, () -> {}, true, step);
            gathered.subList(BLOCKS, gathered.size()).forEach(s -> counts.add(s.use_count()));
            assertThat(optimizer.peakWholeParameterBytes()).isEqualTo(WIDTH * WIDTH * Float.BYTES);
        }
        gathered.forEach(Storage::releaseReference);
        return counts;
    }
}
