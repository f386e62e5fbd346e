package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The layout search proposes the smallest layout that fits a pool by the per-device memory plan. */
class LayoutSearchTest {

    /** A 4-layer GPT on one device, 1F1B with 4 micro-batches of a 16-row batch. */
    private static final JobSpec ONE_DEVICE =
            JobSpecValidator.normalize(SpecDocument.parse(JobSpecValidatorTest.MINIMAL.replace(
                    "\"layers\": 1, \"dModel\": 16, \"heads\": 2", "\"layers\": 4, \"dModel\": 64, \"heads\": 4")));

    /**
     * A 25M-parameter GPT: six gradient buckets a stage, so that sharding the state over two processes saves more
     * than ZeRO's exchange and update hold for one bucket at a time (with a model of one bucket it does not).
     */
    private static final JobSpec WIDE =
            JobSpecValidator.normalize(SpecDocument.parse(JobSpecValidatorTest.MINIMAL.replace(
                    "\"layers\": 1, \"dModel\": 16, \"heads\": 2", "\"layers\": 8, \"dModel\": 512, \"heads\": 4")));

    private static JobSpec layout(int t, int p, int d, int zero) {
        return layout(ONE_DEVICE, t, p, d, zero);
    }

    private static JobSpec layout(JobSpec spec, int t, int p, int d, int zero) {
        return new LayoutSearch.Proposal("any", t, p, d, zero, t * p * d, 0, false).applyTo(spec);
    }

    private static long need(JobSpec spec) {
        return LayoutSearch.perDeviceBytes(JobSpecValidator.normalize(spec));
    }

    private static LayoutSearch.Runner runner(String name, String kind, int devices, long memoryBytes) {
        return new LayoutSearch.Runner(
                name,
                IntStream.range(0, devices)
                        .mapToObj(i -> new DeviceMemoryFit.Device(kind + ":" + i, kind, memoryBytes))
                        .toList());
    }

    private static LayoutSearch.Pool pool(String name, String price, LayoutSearch.Runner... runners) {
        return new LayoutSearch.Pool(name, new BigDecimal(price), List.of(runners));
    }

    @Test
    void tensorParallelDevicesEachHoldTheirShareAndAppearOncePerRank() {
        List<MemoryEstimate> devices = MemoryPlan.perDevice(JobSpecValidator.normalize(layout(2, 2, 1, 0)));

        assertThat(devices).hasSize(4);
        assertThat(devices.get(0)).isEqualTo(devices.get(1));
        assertThat(devices.get(2)).isEqualTo(devices.get(3));
        // split weights: each rank of a t = 2 stage holds less than the whole stage at t = 1
        assertThat(devices.get(0).parameterBytes())
                .isLessThan(MemoryPlan.perDevice(JobSpecValidator.normalize(layout(1, 2, 1, 0)))
                        .get(0)
                        .parameterBytes());
    }

    @Test
    void proposesTwoStagesWhenOneDeviceIsTooSmallForTheModel() {
        long device = (need(layout(1, 1, 1, 0)) + need(layout(1, 2, 1, 0))) / 2;
        LayoutSearch.Pool gpus = pool("gpus", "1.00", runner("r1", "cuda", 4, device));

        assertThat(LayoutSearch.fits(ONE_DEVICE, gpus)).isFalse();
        assertThat(LayoutSearch.smallest(ONE_DEVICE, List.of(gpus)))
                .contains(new LayoutSearch.Proposal("gpus", 1, 2, 1, 0, 2, need(layout(1, 2, 1, 0)), false));
    }

    @Test
    void fewestDevicesComeFirstThenTheLowerPrice() {
        long twoStages = need(layout(1, 2, 1, 0));
        long fourStages = need(layout(1, 4, 1, 0));
        // Pool "small" is cheapest per device but needs four stages; "big" holds two; "pricey" two at a higher price.
        LayoutSearch.Pool small = pool("small", "1.00", runner("s", "cuda", 4, fourStages));
        LayoutSearch.Pool big = pool("big", "3.00", runner("b", "cuda", 2, twoStages));
        LayoutSearch.Pool pricey = pool("pricey", "4.00", runner("p", "cuda", 2, twoStages));

        LayoutSearch.Proposal best =
                LayoutSearch.smallest(ONE_DEVICE, List.of(small, pricey, big)).orElseThrow();

        assertThat(best.pool()).isEqualTo("big");
        assertThat(best.gpus()).isEqualTo(2);
        assertThat(LayoutSearch.smallest(ONE_DEVICE, List.of(small))
                        .orElseThrow()
                        .gpus())
                .isEqualTo(4);
    }

    @Test
    void zeroShardsAcrossRunnersOnlyWithMultiNode() {
        // One device per runner: only data parallelism spreads the job, and only ZeRO makes a replica smaller.
        long zeroOne = need(layout(WIDE, 1, 1, 2, 1));
        assertThat(zeroOne).isLessThan(need(layout(WIDE, 1, 1, 1, 0)));
        LayoutSearch.Pool pool = pool("p", "1.00", runner("a", "cuda", 1, zeroOne), runner("b", "cuda", 1, zeroOne));

        assertThat(LayoutSearch.smallest(WIDE, List.of(pool))).isEmpty();
        JobSpec multiNode = withMultiNode(WIDE);
        LayoutSearch.Proposal proposal =
                LayoutSearch.smallest(multiNode, List.of(pool)).orElseThrow();
        assertThat(proposal.dataParallel()).isEqualTo(2);
        assertThat(proposal.zero()).isEqualTo(1);
        assertThat(LayoutSearch.fits(JobSpecValidator.normalize(proposal.applyTo(multiNode)), pool))
                .isTrue();
    }

    @Test
    void zeroThreeCountsItsShareOfParametersAndGradientsPlusTheLargestBlockWholeAndItsPrefetchedNeighbour() {
        MemoryEstimate zeroTwo = MemoryPlan.perDevice(JobSpecValidator.normalize(layout(1, 1, 2, 2)))
                .get(0);
        MemoryEstimate zeroThree = MemoryPlan.perDevice(JobSpecValidator.normalize(layout(1, 1, 2, 3)))
                .get(0);
        ModelLayout model = ModelLayout.of(ONE_DEVICE.model());
        long largestBlock =
                model.blocks().stream().mapToLong(BlockLayout::parameters).max().orElseThrow();
        long share = (model.parameters() + 1) / 2;

        assertThat(largestBlock).isLessThan(model.parameters());
        // the gathered block's own half is the share itself, not a copy of it; the next block's all-gather in flight
        // fills a whole buffer beside it
        assertThat(zeroThree.parameterBytes())
                .isEqualTo(4 * (share + largestBlock - (largestBlock + 1) / 2 + largestBlock));
        assertThat(zeroThree.gradientBytes()).isEqualTo(4 * (share + largestBlock));
        assertThat(zeroThree.optimizerBytes()).isEqualTo(zeroTwo.optimizerBytes());
        assertThat(zeroThree.activationBytes()).isEqualTo(zeroTwo.activationBytes());
        assertThat(zeroThree.totalBytes()).isLessThan(zeroTwo.totalBytes());
    }

    @Test
    void zeroThreeIsProposedWhereOnlyItFitsAndALowerStageWhereThatFitsToo() {
        long zeroTwo = need(layout(1, 1, 2, 2));
        long zeroThree = need(layout(1, 1, 2, 3));
        JobSpec multiNode = withMultiNode(ONE_DEVICE);
        LayoutSearch.Pool tight =
                pool("p", "1.00", runner("a", "cuda", 1, zeroThree), runner("b", "cuda", 1, zeroThree));

        LayoutSearch.Proposal proposal =
                LayoutSearch.smallest(multiNode, List.of(tight)).orElseThrow();
        assertThat(proposal.dataParallel()).isEqualTo(2);
        assertThat(proposal.zero()).isEqualTo(3);
        assertThat(proposal.perDeviceBytes()).isEqualTo(zeroThree);

        // ZeRO 3 gathers every block twice a step: where a lower stage fits, that one is proposed
        LayoutSearch.Pool roomy = pool("p", "1.00", runner("a", "cuda", 1, zeroTwo), runner("b", "cuda", 1, zeroTwo));
        assertThat(LayoutSearch.smallest(multiNode, List.of(roomy))
                        .orElseThrow()
                        .zero())
                .isLessThan(3);
    }

    @Test
    void aMultiNodeJobMayBeProposedOneReplicaOnOneRunner() {
        // Two replicas spread over runners, each on one device: too big; one replica in two stages fits.
        JobSpec twoReplicas = JobSpecValidator.normalize(withMultiNode(layout(1, 1, 2, 0)));
        long device = need(layout(1, 2, 1, 0));
        LayoutSearch.Pool gpus = pool("gpus", "1.00", runner("r1", "cuda", 4, device));

        assertThat(LayoutSearch.fits(twoReplicas, gpus)).isFalse();
        LayoutSearch.Proposal proposal =
                LayoutSearch.smallest(twoReplicas, List.of(gpus)).orElseThrow();
        assertThat(proposal.gpus()).isEqualTo(2);
        assertThat(proposal.dataParallel()).isEqualTo(1);
        assertThat(proposal.stages()).isEqualTo(2);
        // the proposed spec is valid as it stands: multiNode is dropped with the data parallelism
        assertThat(JobSpecValidator.normalize(proposal.applyTo(twoReplicas))
                        .resources()
                        .multiNode())
                .isFalse();
    }

    @Test
    void aMultiNodeJobIsProposedItsPipelineCutBetweenRunnersWhereNoRunnerHoldsAReplica() {
        JobSpec multiNode = withMultiNode(ONE_DEVICE);
        long cutStage = need(withMultiNode(layout(1, 2, 1, 0)));
        // two runners of one device each, each holding one of two stages but neither a whole replica, at any ZeRO
        LayoutSearch.Pool pool = pool("p", "1.00", runner("a", "cuda", 1, cutStage), runner("b", "cuda", 1, cutStage));
        assertThat(need(layout(1, 1, 1, 0))).isGreaterThan(cutStage);
        for (int zero = 0; zero <= 3; zero++) {
            assertThat(need(layout(1, 1, 2, zero))).as("ZeRO %d", zero).isGreaterThan(cutStage);
        }

        assertThat(LayoutSearch.smallest(ONE_DEVICE, List.of(pool))).isEmpty();
        LayoutSearch.Proposal proposal =
                LayoutSearch.smallest(multiNode, List.of(pool)).orElseThrow();

        assertThat(proposal).isEqualTo(new LayoutSearch.Proposal("p", 1, 2, 1, 0, 2, cutStage, true));
        JobSpec applied = JobSpecValidator.normalize(proposal.applyTo(multiNode));
        assertThat(applied.resources().multiNode()).isTrue();
        assertThat(PipelineCut.allowed(applied)).isTrue();
        assertThat(LayoutSearch.fits(applied, pool)).isTrue();
    }

    @Test
    void anElasticCutJobFitsAPoolWithTheDevicesOfItsMinimum() {
        JobSpec full = JobSpecValidator.normalize(withMultiNode(layout(1, 2, 2, 0)));
        JobSpec asked = withMultiNode(layout(1, 2, 2, 0));
        Resources r = asked.resources();
        JobSpec elastic = JobSpecValidator.normalize(new JobSpec(
                asked.name(),
                asked.project(),
                asked.priority(),
                new Resources(r.pool(), r.gpuType(), r.gpus(), 2, true),
                asked.limits(),
                asked.model(),
                asked.data(),
                asked.training(),
                asked.parallelism(),
                asked.checkpoint()));
        long stage = PipelineCut.stageBytes(elastic).stream()
                .mapToLong(Long::longValue)
                .max()
                .orElseThrow();
        LayoutSearch.Pool twoRunners =
                pool("p", "1.00", runner("a", "cuda", 1, 2 * stage), runner("b", "cuda", 1, 2 * stage));

        assertThat(PipelineCut.allowed(elastic)).isTrue();
        assertThat(LayoutSearch.fits(elastic, twoRunners))
                .as("one cut replica on the two runners")
                .isTrue();
        assertThat(LayoutSearch.fits(full, twoRunners))
                .as("both replicas need four devices")
                .isFalse();
    }

    @Test
    void aPipelineOfTensorParallelStagesFitsRunnersThatEachHoldAWholeStageGroup() {
        JobSpec cut = JobSpecValidator.normalize(withMultiNode(layout(2, 2, 1, 0)));
        long stage = need(cut);
        assertThat(PipelineCut.allowed(cut)).isTrue();
        assertThat(need(layout(2, 1, 1, 0)))
                .as("one runner's two devices hold no whole replica")
                .isGreaterThan(stage);

        assertThat(LayoutSearch.fits(
                        cut, pool("p", "1.00", runner("a", "cuda", 2, stage), runner("b", "cuda", 2, stage))))
                .isTrue();
        assertThat(LayoutSearch.fits(
                        cut,
                        pool(
                                "q",
                                "1.00",
                                runner("a", "cuda", 1, 4 * stage),
                                runner("b", "cuda", 1, 4 * stage),
                                runner("c", "cuda", 1, 4 * stage),
                                runner("d", "cuda", 1, 4 * stage))))
                .as("a stage's tensor-parallel group is never split between one-device runners")
                .isFalse();
    }

    @Test
    void aMultiNodeJobIsProposedATensorParallelCutWhereOnlyHalfStagesFitADevice() {
        JobSpec multiNode = withMultiNode(ONE_DEVICE);
        long stage = need(JobSpecValidator.normalize(withMultiNode(layout(2, 2, 1, 0))));
        LayoutSearch.Pool pool = pool("p", "1.00", runner("a", "cuda", 2, stage), runner("b", "cuda", 2, stage));

        LayoutSearch.Proposal proposal =
                LayoutSearch.smallest(multiNode, List.of(pool)).orElseThrow();

        assertThat(proposal).isEqualTo(new LayoutSearch.Proposal("p", 2, 2, 1, 0, 4, stage, true));
        assertThat(PipelineCut.allowed(JobSpecValidator.normalize(proposal.applyTo(multiNode))))
                .isTrue();
    }

    @Test
    void aLayoutOfAsManyDevicesThatKeepsEachReplicaOnOneRunnerComesBeforeACut() {
        // a two-device runner holds the two-stage replica whole: no cut is proposed, and multiNode is dropped
        JobSpec multiNode = withMultiNode(ONE_DEVICE);
        long stage = need(layout(1, 2, 1, 0));
        LayoutSearch.Pool pool = pool("p", "1.00", runner("a", "cuda", 2, stage), runner("b", "cuda", 1, stage));

        LayoutSearch.Proposal proposal =
                LayoutSearch.smallest(multiNode, List.of(pool)).orElseThrow();

        assertThat(proposal.gpus()).isEqualTo(2);
        assertThat(proposal.multiNode()).isFalse();
    }

    @Test
    void cpuDevicesShareTheHostSoNoSplitHelpsWhenTheWholeModelDoesNotFit() {
        long host = need(layout(1, 1, 1, 0)) - 1;
        LayoutSearch.Pool cpus = pool("cpu", "0.10", runner("r", "cpu", 4, host));

        assertThat(LayoutSearch.smallest(ONE_DEVICE, List.of(cpus))).isEmpty();
    }

    @Test
    void aRunnerThatDoesNotReportMemoryIsNeverJudgedTooSmall() {
        LayoutSearch.Pool unknown = pool(
                "u", "1.00", new LayoutSearch.Runner("r", List.of(new DeviceMemoryFit.Device("cuda:0", "cuda", null))));

        assertThat(LayoutSearch.fits(ONE_DEVICE, unknown)).isTrue();
    }

    @Test
    void onlyLayoutsTheValidatorAcceptsAreCandidates() {
        List<JobSpec> candidates = LayoutSearch.candidates(ONE_DEVICE, 16);

        assertThat(candidates).isNotEmpty();
        // t must divide the 4 heads; d must divide the 16-row batch over 4 micro-batches; at most one stage per
        // block (6 blocks)
        assertThat(candidates).allSatisfy(c -> {
            ParallelismSpec p = c.parallelism();
            assertThat(4 % p.tensorParallelOrDefault()).isZero();
            assertThat(4 % p.dataParallel()).isZero();
            assertThat(p.stages()).isBetween(1, 6);
            assertThat(p.tensorParallelOrDefault() * p.stages() * p.dataParallel())
                    .isEqualTo(c.resources().gpus());
        });
        assertThat(candidates)
                .anySatisfy(c ->
                        assertThat(c.parallelism().tensorParallelOrDefault()).isEqualTo(4));
        assertThat(candidates)
                .anySatisfy(c -> assertThat(c.parallelism().zeroStage()).isEqualTo(2));
        // tensorParallel and dataParallel combine
        assertThat(candidates).anySatisfy(c -> {
            assertThat(c.parallelism().tensorParallelOrDefault()).isEqualTo(2);
            assertThat(c.parallelism().dataParallel()).isEqualTo(2);
        });
    }

    private static JobSpec withMultiNode(JobSpec spec) {
        return LayoutSearch.acrossRunners(spec);
    }
}
