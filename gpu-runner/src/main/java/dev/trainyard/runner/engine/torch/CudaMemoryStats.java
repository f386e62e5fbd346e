package dev.trainyard.runner.engine.torch;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * The CUDA caching allocator's figures for one device, as {@code torch.cuda.reset_peak_memory_stats} and
 * {@code torch.cuda.max_memory_allocated} read them: the peak of bytes allocated to live tensors (not the cache it
 * reserves). A stage is alone on its device, so the device's peak is the stage's. Called only for CUDA devices,
 * whose natives exist only in the GPU build; written, not yet run on a GPU.
 */
final class CudaMemoryStats {

    private CudaMemoryStats() {}

    /** Starts a new peak at what is allocated now. */
    static void resetPeak(Device device) {
        torch_cuda.getAllocator().resetPeakStats(device.index());
    }

    /** The most bytes allocated on the device at once since {@link #resetPeak} (all pools, small and large). */
    static long peakAllocatedBytes(Device device) {
        // allocated_bytes is an array over pool kinds; its first element aggregates them all
        return torch_cuda
                .getAllocator()
                .getDeviceStats(device.index())
                .allocated_bytes()
                .peak();
    }
}
