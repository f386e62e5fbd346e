package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The optimizer phase in the plan (issue 14): what the step holds beyond the training state after the last backward,
 * per ZeRO stage and process count, and the peak as the state plus the larger of that and the activations. The
 * figures are checked against resident memory in gpu-runner's MemoryPlanCheckTest.
 */
class MemoryPlanTest {

    private static final long BUCKET = MemoryPlan.GRADIENT_BUCKET_ELEMENTS;

    /** A GPT of 4 heads over 32 positions. */
    private static ModelLayout gpt(int layers, int dModel, int vocab) {
        return ModelLayout.of(new ModelSpec.Gpt("gpt", layers, dModel, 4, 32, vocab, 0.0));
    }

    private static StageRange whole(ModelLayout layout) {
        return new StageRange(0, 0, layout.blocks().size());
    }

    /** One stage holding the whole model, one micro-batch of {@code rows} rows. */
    private static MemoryEstimate plan(ModelLayout layout, int rows, int zero, int processes) {
        return MemoryPlan.stage(layout, whole(layout), 1, 1, rows, false, zero, processes);
    }

    @Test
    void unshardedAdamWHoldsOneParametersTemporaryAtATime() {
        ModelLayout model = gpt(2, 128, 128);
        long params = model.parameters();
        long largestTensor = model.blocks().stream()
                .mapToLong(BlockLayout::largestTensor)
                .max()
                .orElseThrow();
        assertThat(largestTensor).isLessThan(params / 4);

        MemoryEstimate small = plan(model, 1, 0, 1);
        assertThat(small.optimizerStepBytes()).isEqualTo(4 * largestTensor);
        assertThat(small.totalBytes())
                .isEqualTo(small.stateBytes() + Math.max(small.activationBytes(), small.optimizerStepBytes()));
        // over two processes the all-reduce comes first: its packed bucket (here the whole gradient) and Gloo's
        // scratch of a quarter bucket outweigh one parameter's temporary
        assertThat(plan(model, 1, 0, 2).optimizerStepBytes()).isEqualTo(4 * (params + params / 4));
        ModelLayout wide = gpt(8, 512, 256);
        assertThat(plan(wide, 1, 0, 2).optimizerStepBytes()).isEqualTo(4 * (BUCKET + BUCKET / 4));
        // with a large batch the activations set the peak
        MemoryEstimate large = plan(model, 64, 0, 1);
        assertThat(large.activationBytes()).isGreaterThan(large.optimizerStepBytes());
        assertThat(large.totalBytes()).isEqualTo(large.stateBytes() + large.activationBytes());
    }

    @Test
    void zeroOneHoldsTheStepsGradientSlicesBesideOneBucketsBuffersAndGloosCopy() {
        ModelLayout oneBucket = gpt(2, 128, 128);
        long params = oneBucket.parameters();
        assertThat(params).isLessThan(BUCKET);
        long slice = (params + 1) / 2;

        MemoryEstimate zeroOne = plan(oneBucket, 1, 1, 2);

        // the slices, the update's temporaries and packed parameter slice, the gathered bucket and Gloo's copy of it
        assertThat(zeroOne.optimizerStepBytes()).isEqualTo(4 * (slice + 2 * slice + 2 * (2 * slice)));
    }

    @Test
    void zeroTwoPeaksAtTheFirstReduceScatterOrAtTheUpdateWithoutTheReleasedGradient() {
        ModelLayout oneBucket = gpt(2, 128, 128);
        long slice = (oneBucket.parameters() + 1) / 2;
        long bucket = 2 * slice;

        // one bucket: the reduce-scatter's slice, packed bucket and the all-to-all's receive buffer (a bucket, as
        // Gloo's copy was before), beside the whole gradient
        assertThat(plan(oneBucket, 1, 2, 2).optimizerStepBytes()).isEqualTo(4 * (slice + 2 * bucket));

        // many buckets: the same, with a bucket of 4M elements rather than the whole stage
        ModelLayout wide = gpt(8, 512, 256);
        long params = wide.parameters();
        long wideSlice = BUCKET / 2;
        long update = (params + 1) / 2 + 2 * wideSlice + 2 * BUCKET;
        assertThat(plan(wide, 1, 2, 2).optimizerStepBytes())
                .isEqualTo(4 * Math.max(wideSlice + 2 * BUCKET, update - params))
                .isLessThan(plan(wide, 1, 1, 2).optimizerStepBytes());
    }

    @Test
    void zeroThreeCountsOneBucketSliceOfUpdateTemporaries() {
        ModelLayout model = gpt(2, 128, 128);
        long largestBlock =
                model.blocks().stream().mapToLong(BlockLayout::parameters).max().orElseThrow();

        assertThat(plan(model, 1, 3, 2).optimizerStepBytes()).isEqualTo(4 * ((largestBlock + 1) / 2));
    }

    @Test
    void aTensorLargerThanABucketIsABucketOfItsOwn() {
        // GPT-2 small: the 50257 x 768 token embedding alone is 38.6M elements
        ModelLayout gpt2 = gpt(12, 768, 50257);
        assertThat(MemoryPlan.largestBucket(gpt2.blocks(), false)).isEqualTo(50257L * 768);
        // below that size, buckets fill up to the bucket size, and at ZeRO 3 never span two blocks
        ModelLayout model = gpt(8, 512, 256);
        assertThat(MemoryPlan.largestBucket(model.blocks(), false)).isEqualTo(BUCKET);
        assertThat(MemoryPlan.largestBucket(model.blocks(), true))
                .isEqualTo(model.blocks().get(1).parameters());
        assertThat(MemoryPlan.largestBucket(gpt(2, 128, 128).blocks(), false))
                .isEqualTo(gpt(2, 128, 128).parameters());
    }

    @Test
    void atOneHundredMillionParametersZeroOnesOptimizerStepOutweighsTheActivationsOfASmallBatch() {
        ModelLayout gpt2 = gpt(12, 768, 50257);
        MemoryEstimate zeroOne = plan(gpt2, 1, 1, 2);

        // the gradient slices alone are half the parameters, beside a 154 MiB embedding bucket
        assertThat(zeroOne.optimizerStepBytes()).isGreaterThan(4 * gpt2.parameters() / 2 + 4 * 50257L * 768);
        assertThat(zeroOne.optimizerStepBytes()).isGreaterThan(zeroOne.activationBytes());
        assertThat(zeroOne.totalBytes()).isEqualTo(zeroOne.stateBytes() + zeroOne.optimizerStepBytes());
    }

    @Test
    void withinOneBucketZeroOneOverTwoProcessesNeedsMoreThanZeroZeroOnOne() {
        // sharding saves a quarter of the state but the exchange and update hold several buckets' worth
        ModelLayout oneBucket = gpt(2, 128, 128);
        assertThat(plan(oneBucket, 1, 1, 2).totalBytes())
                .isGreaterThan(plan(oneBucket, 1, 0, 1).totalBytes());
        ModelLayout wide = gpt(8, 512, 256);
        assertThat(plan(wide, 1, 1, 2).totalBytes())
                .isLessThan(plan(wide, 1, 0, 1).totalBytes());
    }

    @Test
    void aPipelineStageKeepsEveryMicroBatchsBoundariesThroughTheUpdate() {
        ModelLayout model = gpt(2, 128, 128);
        List<StageRange> stages = StagePartitioner.byParameters(model, 2);
        int microBatches = 4;
        int rows = 2;
        StageRange first = stages.get(0);
        long out = model.blocks().get(first.endBlock() - 1).outputFloatsPerSample();

        long largestTensor = model.blocks().subList(first.firstBlock(), first.endBlock()).stream()
                .mapToLong(BlockLayout::largestTensor)
                .max()
                .orElseThrow();

        MemoryEstimate stage = MemoryPlan.stage(model, first, 2, microBatches, rows, false, 0, 1);

        // outputs sent and gradients received, each micro-batch's, beside AdamW's one temporary
        assertThat(stage.optimizerStepBytes()).isEqualTo(4 * (largestTensor + 2L * microBatches * out * rows));
    }

    @Test
    void theEstimateReadsWithItsStepExtras() {
        MemoryEstimate estimate = new MemoryEstimate(1 << 20, 1 << 20, 2 << 20, 3 << 20, 5 << 20);

        assertThat(estimate.totalBytes()).isEqualTo(9L << 20);
        assertThat(estimate)
                .hasToString("9.0 MiB (params 1.0, grads 1.0, AdamW 2.0, activations 3.0, step extras 5.0)");
    }
}
