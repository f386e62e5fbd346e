package dev.trainyard.runner.engine.torch;

import java.lang.reflect.Method;
import java.util.OptionalLong;

/** Tells callers outside the engine (the runner agent) which accelerators libtorch sees, without exposing torch types. */
public final class DeviceProbe {
    /** PyTorch's CUDA API; in the main pytorch jar, its native part only in the GPU build. */
    private static final String TORCH_CUDA = "org.bytedeco.pytorch.global.torch_cuda";

    private DeviceProbe() {}

    /** CUDA devices visible to libtorch; 0 on a CPU-only build or host. */
    public static int cudaDeviceCount() {
        return NativeRuntime.cudaDevices();
    }

    /**
     * Total memory of CUDA device {@code index} ({@code cudaDeviceProp.totalGlobalMem}, through
     * {@code at::cuda::getDeviceProperties}), or empty when it cannot be read (a CPU build or host).
     *
     * <p>Reached by reflection: {@code getDeviceProperties} returns {@code org.bytedeco.cuda.cudart.cudaDeviceProp},
     * a class of the {@code cuda} artifact that only the {@code gpu} Maven profile brings, so naming it here would
     * stop the CPU build from compiling. Not yet run on a GPU.
     */
    public static OptionalLong cudaTotalMemoryBytes(int index) {
        if (index < 0 || index >= cudaDeviceCount()) {
            return OptionalLong.empty();
        }
        try {
            Method properties = Class.forName(TORCH_CUDA).getMethod("getDeviceProperties", byte.class);
            Object deviceProperties = properties.invoke(null, (byte) index);
            if (deviceProperties == null) {
                return OptionalLong.empty();
            }
            Object total =
                    deviceProperties.getClass().getMethod("totalGlobalMem").invoke(deviceProperties);
            long bytes = ((Number) total).longValue();
            return bytes > 0 ? OptionalLong.of(bytes) : OptionalLong.empty();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            // a CPU build (no cuda classes or natives), or a device that went away: report no figure
            return OptionalLong.empty();
        }
    }
}
