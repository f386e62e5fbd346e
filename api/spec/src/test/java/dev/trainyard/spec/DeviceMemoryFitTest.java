package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceMemoryFitTest {
    private static final long GIB = 1L << 30;

    /** A stage of {@code gib} GiB in all: a quarter each for weights and gradients, half for AdamW state. */
    private static MemoryEstimate stage(long gib) {
        return new MemoryEstimate(gib * GIB / 4, gib * GIB / 4, gib * GIB / 2, 0);
    }

    private static DeviceMemoryFit.Device cuda(int index, long gib) {
        return new DeviceMemoryFit.Device("cuda:" + index, "cuda", gib * GIB);
    }

    private static DeviceMemoryFit.Device cpu(int index, long gib) {
        return new DeviceMemoryFit.Device("cpu:" + index, "cpu", gib * GIB);
    }

    @Test
    void eachAcceleratorHoldsItsOwnStage() {
        assertThat(DeviceMemoryFit.shortfall(List.of(stage(80), stage(40)), List.of(cuda(0, 80), cuda(1, 80))))
                .isEmpty();
        assertThat(DeviceMemoryFit.shortfall(List.of(stage(40), stage(81)), List.of(cuda(0, 80), cuda(1, 80))))
                .contains(
                        "the plan's device 1 needs 81.0 GiB (weights, gradients, AdamW state and activations) but device cuda:1"
                                + " has 80.0 GiB");
    }

    @Test
    void cpuDevicesShareTheHostsMemory() {
        List<DeviceMemoryFit.Device> host = List.of(cpu(0, 16), cpu(1, 16));
        assertThat(DeviceMemoryFit.shortfall(List.of(stage(8), stage(8)), host)).isEmpty();
        assertThat(DeviceMemoryFit.shortfall(List.of(stage(10), stage(10)), host))
                .contains(
                        "the plan's 2 devices need together 20.0 GiB (weights, gradients, AdamW state and activations) but"
                                + " the host memory its cpu devices share is 16.0 GiB");
        assertThat(DeviceMemoryFit.shortfall(List.of(stage(313)), host))
                .contains("the plan needs 313.0 GiB (weights, gradients, AdamW state and activations) but the host"
                        + " memory its cpu devices share is 16.0 GiB");
    }

    @Test
    void aRunnerThatDoesNotSayItsMemoryOrHasTooFewDevicesIsNotJudgedHere() {
        DeviceMemoryFit.Device unknown = new DeviceMemoryFit.Device("cuda:1", "cuda", null);
        assertThat(DeviceMemoryFit.shortfall(List.of(stage(500), stage(500)), List.of(cuda(0, 80), unknown)))
                .isEmpty();
        assertThat(DeviceMemoryFit.shortfall(List.of(stage(500), stage(500)), List.of(cuda(0, 80))))
                .isEmpty();
        assertThat(DeviceMemoryFit.shortfall(List.of(), List.of(cuda(0, 80)))).isEmpty();
    }
}
