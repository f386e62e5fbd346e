package dev.trainyard.api.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.JobSpecValidator;
import dev.trainyard.spec.SpecDocument;
import org.junit.jupiter.api.Test;

/**
 * A runner of a cut pipeline learns its replica, its pipeline rank within it and its stages from its attempt rank
 * (q = replica x P + pipelineRank); a runner given whole replicas gets no share.
 */
class StageShareTest {
    /** 3 stages (1 layer: embedding, block, head) x 2 replicas over runners. */
    static final String TWO_REPLICAS_OF_THREE_STAGES = """
            {"name": "tiny", "resources": {"pool": "cpu", "gpus": 6, "multiNode": true},
             "model": {"type": "gpt", "layers": 1, "dModel": 16, "heads": 2, "seqLen": 8},
             "data": {"type": "arithmetic"},
             "parallelism": {"dataParallel": 2},
             "training": {"steps": 200}}""";

    private final JobSpec spec = JobSpecValidator.normalize(SpecDocument.parse(TWO_REPLICAS_OF_THREE_STAGES));

    @Test
    void eachRankOfACutGangKnowsItsReplicaPipelineRankAndStages() {
        // two ranks per replica: stages 0-1 then stage 2, cut the same way in both replicas
        assertThat(StageShare.of(spec, 4, 0, 0, 2, 6)).isEqualTo(new RunnerMessages.PipelineShare(0, 2, 0, 2, 3, 0, 2));
        assertThat(StageShare.of(spec, 4, 1, 2, 1, 6)).isEqualTo(new RunnerMessages.PipelineShare(1, 2, 2, 3, 3, 0, 2));
        assertThat(StageShare.of(spec, 4, 2, 3, 2, 6)).isEqualTo(new RunnerMessages.PipelineShare(0, 2, 0, 2, 3, 1, 2));
        assertThat(StageShare.of(spec, 4, 3, 5, 1, 6)).isEqualTo(new RunnerMessages.PipelineShare(1, 2, 2, 3, 3, 1, 2));
    }

    @Test
    void aRankOfTwoWayStagesHoldsItsGpusOverTwoStages() {
        JobSpec tensorParallel = JobSpecValidator.normalize(SpecDocument.parse(TWO_REPLICAS_OF_THREE_STAGES.replace(
                "\"dataParallel\": 2", "\"tensorParallel\": 2, \"dataParallel\": 1")));

        // 3 stages of 2 GPUs: stage 0 on 2 GPUs, stages 1-2 on the next runner's 4
        assertThat(StageShare.of(tensorParallel, 2, 0, 0, 2, 6))
                .isEqualTo(new RunnerMessages.PipelineShare(0, 2, 0, 1, 3, 0, 1));
        assertThat(StageShare.of(tensorParallel, 2, 1, 2, 4, 6))
                .isEqualTo(new RunnerMessages.PipelineShare(1, 2, 1, 3, 3, 0, 1));
        assertThat(StageShare.of(tensorParallel, 1, 0, 0, 6, 6))
                .as("one runner holds the whole pipeline")
                .isNull();
    }

    @Test
    void anElasticJobRunningShortIsToldTheAttemptsReplicasNotTheSpecs() {
        JobSpec elastic = JobSpecValidator.normalize(SpecDocument.parse(
                TWO_REPLICAS_OF_THREE_STAGES.replace("\"gpus\": 6,", "\"gpus\": 6, \"minGpus\": 3,")));

        // one replica of 3 stages on 3 GPUs: stages 0-1, then stage 2; the spec asked for 2 replicas
        assertThat(StageShare.of(elastic, 2, 0, 0, 2, 3))
                .isEqualTo(new RunnerMessages.PipelineShare(0, 2, 0, 2, 3, 0, 1));
        assertThat(StageShare.of(elastic, 2, 1, 2, 1, 3))
                .isEqualTo(new RunnerMessages.PipelineShare(1, 2, 2, 3, 3, 0, 1));
        assertThat(StageShare.of(elastic, 4, 3, 5, 1, 6))
                .as("grown back to every replica")
                .isEqualTo(new RunnerMessages.PipelineShare(1, 2, 2, 3, 3, 1, 2));
    }

    @Test
    void runnersHoldingWholeReplicasGetNoShare() {
        assertThat(StageShare.of(spec, 2, 0, 0, 3, 6)).isNull();
        assertThat(StageShare.of(spec, 2, 1, 3, 3, 6)).isNull();
    }
}
