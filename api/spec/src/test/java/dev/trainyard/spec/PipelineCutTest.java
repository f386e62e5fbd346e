package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * multiNode spreads a pipeline's stages over runners where the engine can cut it: two stages or more, each a
 * tensor-parallel group kept on one runner, elastic by whole replicas; anything else is refused with the field to
 * change.
 */
class PipelineCutTest {
    /** A 3-stage pipeline (1 layer: embedding, block, head) on 3 devices that may cross runners. */
    static final String THREE_STAGES =
            JobSpecValidatorTest.MINIMAL.replace("\"gpus\": 1", "\"gpus\": 3, \"multiNode\": true");

    @Test
    void aSingleReplicaPipelineOfOneDeviceStagesMayBeCutBetweenRunners() {
        JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(THREE_STAGES));

        assertThat(PipelineCut.allowed(spec)).isTrue();
        assertThat(PipelineCut.stageBytes(spec))
                .hasSize(3)
                .allSatisfy(bytes -> assertThat(bytes).isPositive())
                .isEqualTo(new ProcessLayout(1, 1)
                        .perStage(spec, 3).stream()
                                .map(MemoryEstimate::totalBytes)
                                .toList());
    }

    @Test
    void withoutMultiNodeOrWithReplicasThePipelineStaysWhole() {
        JobSpec oneRunner =
                JobSpecValidator.normalize(SpecDocument.parse(THREE_STAGES.replace(", \"multiNode\": true", "")));
        JobSpec replicas = JobSpecValidator.normalize(SpecDocument.parse(THREE_STAGES
                .replace("\"gpus\": 3", "\"gpus\": 2")
                .replace("\"training\"", "\"parallelism\": {\"dataParallel\": 2}, \"training\"")));

        assertThat(PipelineCut.allowed(oneRunner)).isFalse();
        assertThat(PipelineCut.allowed(replicas)).isFalse();
    }

    @Test
    void replicasOfAPipelineOfOneDeviceStagesMayBeCutBetweenRunnersAtEveryZeroStage() {
        String twoReplicas = THREE_STAGES
                .replace("\"gpus\": 3", "\"gpus\": 6")
                .replace("\"training\"", "\"parallelism\": {\"dataParallel\": 2, \"zero\": 2}, \"training\"");
        JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(twoReplicas));

        assertThat(PipelineCut.allowed(spec)).isTrue();
        assertThat(PipelineCut.replicas(spec)).isEqualTo(2);
        assertThat(PipelineCut.stageBytes(spec)).hasSize(3);
        for (int zero = 0; zero <= 3; zero++) {
            JobSpec atZero = JobSpecValidator.normalize(
                    SpecDocument.parse(twoReplicas.replace("\"zero\": 2", "\"zero\": " + zero)));
            assertThat(PipelineCut.allowed(atZero)).as("ZeRO %d", zero).isTrue();
        }
    }

    /**
     * Cut, a stage's two replicas are two processes sharing its state: at ZeRO 3 each holds half of the stage's
     * parameters and gradients plus the blocks it gathers (the running one and the next, and the running one's
     * gradients), as a whole replica's stage over two processes does; a lone process's plan would count them whole.
     * So a stage of several blocks needs less at ZeRO 3 than at ZeRO 2.
     */
    @Test
    void aCutZeroThreeStageCountsItsShareOfTheParametersPlusTheGatheredBlocks() {
        // 12 blocks (embedding, 10 layers, head) in 3 stages of 4 or so, 2 replicas
        String twoReplicas = THREE_STAGES
                .replace("\"layers\": 1, \"dModel\": 16", "\"layers\": 10, \"dModel\": 64")
                .replace("\"gpus\": 3", "\"gpus\": 6")
                .replace("\"training\"", "\"parallelism\": {\"dataParallel\": 2, \"zero\": 3}, \"training\"");
        JobSpec zeroThree = JobSpecValidator.normalize(SpecDocument.parse(twoReplicas));
        JobSpec zeroTwo =
                JobSpecValidator.normalize(SpecDocument.parse(twoReplicas.replace("\"zero\": 3", "\"zero\": 2")));

        List<MemoryEstimate> cut = PipelineCut.perStage(zeroThree);
        assertThat(cut).hasSize(3).isEqualTo(MemoryPlan.perStage(zeroThree, 3));
        List<MemoryEstimate> lone = new ProcessLayout(1, 1).perStage(zeroThree, 3);
        List<MemoryEstimate> cutZeroTwo = PipelineCut.perStage(zeroTwo);
        for (int stage = 0; stage < 3; stage++) {
            MemoryEstimate mine = cut.get(stage);
            long whole = lone.get(stage).parameterBytes();
            assertThat(mine.parameterBytes()).as("stage %d", stage).isLessThan(whole);
            assertThat(mine.gradientBytes()).as("stage %d", stage).isLessThan(whole);
            assertThat(mine.optimizerBytes())
                    .as("stage %d: half of the moments", stage)
                    .isLessThanOrEqualTo(lone.get(stage).optimizerBytes() / 2 + 8);
            assertThat(mine.totalBytes())
                    .as("stage %d", stage)
                    .isLessThan(cutZeroTwo.get(stage).totalBytes());
        }
        assertThat(PipelineCut.stageBytes(zeroThree))
                .isEqualTo(cut.stream().map(MemoryEstimate::totalBytes).toList());
    }

    @Test
    void aPipelineOfTensorParallelStagesMayBeCutBetweenRunnersEachStageOnOneRunner() {
        // 1 layer, dModel 16, heads 2, vocab 256: t = 2 splits it; 3 stages x 2 devices
        String tensorParallel = THREE_STAGES
                .replace("\"gpus\": 3", "\"gpus\": 6")
                .replace("\"training\"", "\"parallelism\": {\"tensorParallel\": 2}, \"training\"");
        JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(tensorParallel));
        JobSpec oneDevicePerStage = JobSpecValidator.normalize(SpecDocument.parse(THREE_STAGES));

        assertThat(violations(tensorParallel)).isEmpty();
        assertThat(PipelineCut.allowed(spec)).isTrue();
        assertThat(PipelineCut.tensorParallel(spec)).isEqualTo(2);
        assertThat(PipelineCut.stageBytes(spec))
                .as("each stage's bytes are one device's of its tensor-parallel group")
                .hasSize(3)
                .isEqualTo(new ProcessLayout(1, 1)
                        .perStage(spec, 3).stream()
                                .map(MemoryEstimate::totalBytes)
                                .toList());
        assertThat(PipelineCut.stageBytes(spec).get(1))
                .as("a device of a 2-way stage holds less than a single-device stage")
                .isLessThan(PipelineCut.stageBytes(oneDevicePerStage).get(1));
    }

    @Test
    void replicasOfTensorParallelPipelinesMayBeCutAndOneTensorParallelStageCannot() {
        String replicated = THREE_STAGES
                .replace("\"gpus\": 3", "\"gpus\": 12")
                .replace(
                        "\"training\"",
                        "\"parallelism\": {\"tensorParallel\": 2, \"dataParallel\": 2, \"zero\": 1}, \"training\"");

        assertThat(PipelineCut.allowed(JobSpecValidator.normalize(SpecDocument.parse(replicated))))
                .isTrue();
        assertThat(violations(THREE_STAGES
                        .replace("\"gpus\": 3", "\"gpus\": 2")
                        .replace("\"training\"", "\"parallelism\": {\"tensorParallel\": 2}, \"training\"")))
                .as("one stage of 2 devices has nothing to cut: its group stays on one runner")
                .singleElement()
                .asString()
                .contains("resources.multiNode", "at least 2 pipeline stages", "tensorParallel");
    }

    @Test
    void oneDeviceOrAnElasticMinimumCannotBeCut() {
        assertThat(violations(THREE_STAGES.replace("\"gpus\": 3", "\"gpus\": 1")))
                .singleElement()
                .asString()
                .contains("resources.multiNode", "at least 2 pipeline stages");
        assertThat(violations(THREE_STAGES.replace("\"gpus\": 3", "\"gpus\": 3, \"minGpus\": 2")))
                .singleElement()
                .asString()
                .contains("resources.minGpus", "must equal resources.gpus");
    }

    /**
     * Elastic replicas of a cut pipeline: minGpus counts whole cut replicas (stages x t devices each), the job may
     * start on fewer of them, and its memory is judged at that minimum, where each process trains more rows.
     */
    @Test
    void anElasticMinimumOfWholeReplicasMayBeCutAndAPartialReplicaIsRefused() {
        String elastic = THREE_STAGES
                .replace("\"gpus\": 3", "\"gpus\": 6, \"minGpus\": 3")
                .replace("\"training\"", "\"parallelism\": {\"dataParallel\": 2, \"zero\": 1}, \"training\"");
        JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(elastic));
        JobSpec full = JobSpecValidator.normalize(SpecDocument.parse(elastic.replace(", \"minGpus\": 3", "")));

        assertThat(violations(elastic)).isEmpty();
        assertThat(PipelineCut.allowed(spec)).isTrue();
        assertThat(PipelineCut.replicas(spec)).isEqualTo(2);
        assertThat(PipelineCut.minReplicas(spec)).isEqualTo(1);
        assertThat(PipelineCut.minReplicas(full)).isEqualTo(2);
        assertThat(PipelineCut.perStage(spec))
                .as("one process per stage training both replicas' rows")
                .isEqualTo(new ProcessLayout(1, 2).perStage(spec, 3));
        assertThat(PipelineCut.perStage(full)).isEqualTo(new ProcessLayout(2, 1).perStage(full, 3));
        assertThat(violations(elastic.replace("\"minGpus\": 3", "\"minGpus\": 4")))
                .singleElement()
                .asString()
                .contains("resources.minGpus", "must be a multiple of one data-parallel replica's devices");
    }

    private static List<String> violations(String json) {
        try {
            JobSpecValidator.normalize(SpecDocument.parse(json));
            return List.of();
        } catch (InvalidFieldsException e) {
            return e.violations().stream().map(FieldViolation::toString).toList();
        }
    }
}
