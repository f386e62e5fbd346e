package dev.trainyard.runner.engine.torch;

/** Tells callers outside the engine (the runner agent) which accelerators libtorch sees, without exposing torch types. */
public final class DeviceProbe {

    private DeviceProbe() {}

    /** CUDA devices visible to libtorch; 0 on a CPU-only build or host. */
    public static int cudaDeviceCount() {
        return NativeRuntime.cudaDevices();
    }
}
