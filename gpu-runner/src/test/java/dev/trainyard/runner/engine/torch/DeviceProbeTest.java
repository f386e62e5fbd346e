package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/**
 * What the runner reports of its devices' memory: on a CUDA host (the gpu profile) each device's total memory,
 * on a CPU build nothing for a device that is not there (and no failure).
 */
class DeviceProbeTest {

    @Test
    void eachCudaDeviceReportsItsTotalMemory() {
        assumeTrue(DeviceProbe.cudaDeviceCount() > 0, "no CUDA device: GPU test skipped");
        for (int i = 0; i < DeviceProbe.cudaDeviceCount(); i++) {
            java.util.OptionalLong total = DeviceProbe.cudaTotalMemoryBytes(i);
            assertThat(total).as("cuda:" + i).isPresent();
            assertThat(total.getAsLong()).as("cuda:" + i).isGreaterThan(1L << 30);
        }
    }

    @Test
    void aDeviceThatIsNotThereHasNoFigure() {
        assertThat(DeviceProbe.cudaTotalMemoryBytes(DeviceProbe.cudaDeviceCount()))
                .isEmpty();
        assertThat(DeviceProbe.cudaTotalMemoryBytes(-1)).isEmpty();
    }
}
