package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.HostTensor;
import dev.trainyard.runner.engine.StorePorts;
import dev.trainyard.runner.engine.TensorSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@link ShardedAdamW} on two ranks in one JVM against {@link AdamW} given the ranks' mean gradient, over
 * parameters laid out as gradients come (matrices, vectors, a scalar) and one larger than a whole bucket, so that
 * the stage has several buckets, parameters straddle the two ranks' slices and buckets are padded.
 */
class ShardedAdamWTest {

    private static final long[][] SHAPES = {{64, 32}, {32}, {1}, {ReplicaGroup.BUCKET_ELEMENTS + 5}, {7, 3, 2}, {3}};

    /** Four parameters just over half a bucket each: no two share a bucket, so the stage has four full buckets. */
    private static final long HALF_BUCKET = ReplicaGroup.BUCKET_ELEMENTS / 2 + 1;

    private static final long[][] FOUR_BUCKETS = {{HALF_BUCKET}, {HALF_BUCKET}, {HALF_BUCKET}, {HALF_BUCKET}};

    @Test
    void oneStepOnTwoRanksUpdatesEveryParameterAsUnshardedAdamWAndTheGatheredMomentsAreWhole() throws Exception {
        NativeRuntime.load();
        for (int zero = 1; zero <= 2; zero++) {
            stepOnTwoRanks(zero);
        }
    }

    /**
     * The reduce-scatter's packed gradients and the all-gather's buffers are made bucket by bucket and released
     * before the next bucket's: a step at ZeRO 1 or 2 never holds more than one bucket's flat buffers (the packed
     * bucket, or the gathered bucket and its slice), not a flat copy of the whole stage on top of it; and ZeRO 2
     * holds no more than the whole gradient and one bucket's gradient slice while reducing.
     */
    @Test
    void aStepHoldsTheFlatBuffersOfOneBucketAtATime() throws Exception {
        NativeRuntime.load();
        long bucketBytes = 4 * (HALF_BUCKET + 1); // padded to an even length for two ranks
        for (int zero = 1; zero <= 2; zero++) {
            int stage = zero;
            onTwoRanks((threads, groups) -> {
                List<Map<String, Tensor>> parameters = List.of(parameters(FOUR_BUCKETS), parameters(FOUR_BUCKETS));
                ShardedAdamW[] sharded = new ShardedAdamW[2];
                for (int rank = 0; rank < 2; rank++) {
                    sharded[rank] = new ShardedAdamW(parameters.get(rank), stage, groups[rank], 0);
                    setGradients(parameters.get(rank), gradients(FOUR_BUCKETS, 100 + rank));
                }
                onBothRanks(threads, rank -> {
                    sharded[rank].reduceGradients();
                    sharded[rank].step(1, 0.01, 0.1);
                    return null;
                });
                long wholeGradient = 4 * 4 * HALF_BUCKET;
                // ZeRO 2 releases each bucket's gradients once reduced, so beside the whole gradient there is one
                // bucket's slice at most; ZeRO 1 keeps them (zeroed) beside every slice
                long gradients = wholeGradient + (stage == 2 ? 1 : 4) * (bucketBytes / 2);
                for (int rank = 0; rank < 2; rank++) {
                    // the gathered bucket and this rank's half of it: one and a half buckets
                    assertThat(sharded[rank].peakFlatBufferBytes())
                            .as("zero %d rank %d", stage, rank)
                            .isEqualTo(bucketBytes + bucketBytes / 2);
                    assertThat(sharded[rank].peakGradientBytes())
                            .as("zero %d rank %d", stage, rank)
                            .isEqualTo(gradients);
                }
            });
        }
    }

    private interface TwoRankTest {
        void run(ExecutorService threads, ReplicaGroup[] groups) throws Exception;
    }

    /** Runs {@code test} with a replica group of two ranks in this JVM and a thread for each rank. */
    private static void onTwoRanks(TwoRankTest test) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        int port = StorePorts.free();
        Future<ReplicaGroup> other = threads.submit(
                () -> new ReplicaGroup(DataParallelGroup.evenly(1, 2, "127.0.0.1", port), 1, () -> false));
        try (ReplicaGroup rankZero =
                        new ReplicaGroup(DataParallelGroup.evenly(0, 2, "127.0.0.1", port), 1, () -> false);
                ReplicaGroup rankOne = other.get(60, TimeUnit.SECONDS)) {
            test.run(threads, new ReplicaGroup[] {rankZero, rankOne});
        } finally {
            threads.shutdownNow();
        }
    }

    private static void stepOnTwoRanks(int zero) throws Exception {
        onTwoRanks((threads, groups) -> {
            List<Map<String, Tensor>> parameters = List.of(parameters(), parameters());
            Map<String, Tensor> reference = parameters();
            List<List<Tensor>> gradients = List.of(gradients(SHAPES, 200), gradients(SHAPES, 300));
            ShardedAdamW[] sharded = new ShardedAdamW[2];
            for (int rank = 0; rank < 2; rank++) {
                sharded[rank] = new ShardedAdamW(parameters.get(rank), zero, groups[rank], 0);
                setGradients(parameters.get(rank), gradients.get(rank));
            }
            AdamW unsharded = new AdamW(reference);
            setGradients(reference, mean(gradients.get(0), gradients.get(1)));

            onBothRanks(threads, rank -> {
                sharded[rank].reduceGradients();
                sharded[rank].step(1, 0.01, 0.1);
                return null;
            });
            unsharded.step(1, 0.01, 0.1);

            for (int rank = 0; rank < 2; rank++) {
                for (String name : reference.keySet()) {
                    Tensor p = parameters.get(rank).get(name);
                    assertThat(p.equal(reference.get(name)))
                            .as("zero %d rank %d %s", zero, rank, name)
                            .isTrue();
                    // ZeRO 1 keeps a zeroed full gradient; ZeRO 2 keeps none between steps
                    assertThat(p.grad().defined()).as("zero %d %s", zero, name).isEqualTo(zero == 1);
                }
                assertThat(sharded[rank].stateBytes())
                        .isBetween(unsharded.stateBytes() / 2, unsharded.stateBytes() / 2 + 64);
            }
            List<List<HostTensor>> gathered = onBothRanks(threads, rank -> sharded[rank].firstMomentsToHost());
            assertSameTensors(gathered.get(0), unsharded.firstMomentsToHost());
            assertSameTensors(gathered.get(1), unsharded.firstMomentsToHost());

            // Loading the whole moments gives each rank its slice back: gathering again gives the same whole.
            ShardedAdamW[] reloaded = new ShardedAdamW[2];
            for (int rank = 0; rank < 2; rank++) {
                reloaded[rank] = new ShardedAdamW(parameters(), zero, groups[rank], 0);
                reloaded[rank].load(
                        TensorSource.of(unsharded.firstMomentsToHost()),
                        TensorSource.of(unsharded.secondMomentsToHost()));
            }
            List<List<HostTensor>> second = onBothRanks(threads, rank -> reloaded[rank].secondMomentsToHost());
            assertSameTensors(second.get(1), unsharded.secondMomentsToHost());
        });
    }

    private interface RankTask<T> {
        T run(int rank) throws Exception;
    }

    private static <T> List<T> onBothRanks(ExecutorService threads, RankTask<T> task) throws Exception {
        Callable<T> one = () -> task.run(1);
        Future<T> other = threads.submit(one);
        T zero = task.run(0);
        return java.util.Arrays.asList(zero, other.get(60, TimeUnit.SECONDS));
    }

    /** The same values on every call (seeded), as replicas start from the same weights. */
    private static Map<String, Tensor> parameters() {
        return parameters(SHAPES);
    }

    private static Map<String, Tensor> parameters(long[][] shapes) {
        Generator generator = torch.make_generator_cpu(7);
        Map<String, Tensor> parameters = new LinkedHashMap<>();
        for (int i = 0; i < shapes.length; i++) {
            Tensor p = torch.randn(shapes[i], new GeneratorOptional(generator), new TensorOptions());
            parameters.put("p" + i, p.requires_grad_(true));
        }
        return parameters;
    }

    private static List<Tensor> gradients(long[][] shapes, long seed) {
        Generator generator = torch.make_generator_cpu(seed);
        return java.util.Arrays.stream(shapes)
                .map(shape -> torch.randn(shape, new GeneratorOptional(generator), new TensorOptions()))
                .toList();
    }

    private static List<Tensor> mean(List<Tensor> a, List<Tensor> b) {
        return java.util.stream.IntStream.range(0, a.size())
                .mapToObj(i -> a.get(i).add(b.get(i)).div(new Scalar(2.0)))
                .toList();
    }

    private static void setGradients(Map<String, Tensor> parameters, List<Tensor> gradients) {
        int i = 0;
        for (Tensor p : parameters.values()) {
            p.mutable_grad().put(gradients.get(i++).clone());
        }
    }

    private static void assertSameTensors(List<HostTensor> actual, List<HostTensor> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(actual.get(i).name()).isEqualTo(expected.get(i).name());
            assertThat(actual.get(i).shape()).isEqualTo(expected.get(i).shape());
            assertThat(actual.get(i).data())
                    .as(expected.get(i).name())
                    .isEqualTo(expected.get(i).data());
        }
    }
}
