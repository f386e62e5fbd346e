package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcessLayoutTest {
    /** Three replicas of one device each; multi-node; at least MIN devices. */
    static final String THREE_REPLICAS = """
            {"name": "tiny", "resources": {"pool": "cpu", "gpus": 3, "minGpus": MIN, "multiNode": true},
             "model": {"type": "gpt", "layers": 2, "dModel": 32, "heads": 2, "seqLen": 8},
             "data": {"type": "arithmetic"},
             "parallelism": {"dataParallel": 3, "microBatches": 2, "zero": 2},
             "training": {"steps": 20, "batchSize": 12}}""";

    static JobSpec threeReplicas(int min) {
        return JobSpecValidator.normalize(SpecDocument.parse(THREE_REPLICAS.replace("MIN", Integer.toString(min))));
    }

    @Test
    void atItsMinimumAnElasticJobHasFewerProcessesHoldingMoreReplicas() {
        assertThat(ProcessLayout.worstOn(threeReplicas(3), 1)).isEqualTo(new ProcessLayout(3, 1));
        assertThat(ProcessLayout.worstOn(threeReplicas(2), 1)).isEqualTo(new ProcessLayout(2, 2));
        assertThat(ProcessLayout.worstOn(threeReplicas(1), 1)).isEqualTo(new ProcessLayout(1, 3));
        assertThat(ProcessLayout.worstOn(threeReplicas(3), 4))
                .as("a runner with room for the whole gang gets it")
                .isEqualTo(new ProcessLayout(1, 3));
    }

    @Test
    void oneReplicaPerProcessIsThePlanOfTheSpec() {
        JobSpec spec = threeReplicas(3);
        assertThat(new ProcessLayout(3, 1).perStage(spec, 1)).isEqualTo(MemoryPlan.perStage(spec, 1));
    }

    @Test
    void twoProcessesHoldingTwoReplicasNeedMoreThanThreeHoldingOne() {
        JobSpec spec = threeReplicas(2);
        MemoryEstimate three = new ProcessLayout(3, 1).perStage(spec, 1).get(0);
        MemoryEstimate two = new ProcessLayout(2, 2).perStage(spec, 1).get(0);

        assertThat(two.parameterBytes()).isEqualTo(three.parameterBytes());
        // ZeRO 2 over 2 processes instead of 3: half of the moments, not a third; the gradients count whole at the
        // end of backward either way
        assertThat(two.gradientBytes()).isEqualTo(three.gradientBytes());
        assertThat(two.optimizerBytes()).isGreaterThan(three.optimizerBytes());
        // two replicas' rows in each micro-batch
        assertThat(two.activationBytes()).isEqualTo(2 * three.activationBytes());
    }

    @Test
    void atZeroThreeTheParametersAndGradientsAreSharedOverTheProcessesNotTheReplicas() {
        JobSpec spec = JobSpecValidator.normalize(
                SpecDocument.parse(THREE_REPLICAS.replace("MIN", "2").replace("\"zero\": 2", "\"zero\": 3")));
        MemoryEstimate three = new ProcessLayout(3, 1).perStage(spec, 1).get(0);
        MemoryEstimate two = new ProcessLayout(2, 2).perStage(spec, 1).get(0);
        MemoryEstimate one = new ProcessLayout(1, 3).perStage(spec, 1).get(0);

        assertThat(two.parameterBytes()).isGreaterThan(three.parameterBytes());
        assertThat(two.gradientBytes()).isGreaterThan(three.gradientBytes());
        // one process has nothing to share with: everything whole, as at ZeRO 0
        assertThat(one.parameterBytes()).isEqualTo(one.gradientBytes()).isGreaterThan(two.parameterBytes());
    }

    @Test
    void replicasAreDealtToSlotsAsEvenlyAsIntegersAllow() {
        assertThat(ProcessLayout.firstReplica(0, 2, 3)).isZero();
        assertThat(ProcessLayout.firstReplica(1, 2, 3)).isEqualTo(1);
        assertThat(ProcessLayout.firstReplica(2, 2, 3)).isEqualTo(3);
        assertThat(ProcessLayout.firstReplica(2, 3, 3)).isEqualTo(2);
    }
}
