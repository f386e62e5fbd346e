package dev.trainyard.runner.engine.torch;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/** Loads libtorch once and applies the per-thread settings each stage thread needs. */
final class NativeRuntime {

    private static volatile boolean loaded;

    private NativeRuntime() {}

    static synchronized void load() {
        if (!loaded) {
            // Touching the class extracts and links the natives (a one-off cost of seconds on a cold cache).
            torch.get_num_threads();
            loaded = true;
        }
    }

    /** The intra-op thread count is per OS thread in libtorch, so every stage thread sets its own. */
    static void configureThread(int intraOpThreads) {
        load();
        torch.set_num_threads(intraOpThreads);
    }

    /**
     * Turns bf16 autocast on for this thread (autocast state is thread-local). The weight-cast cache is off:
     * without Python's context exit nothing would clear it, and stale bf16 copies would outlive each update.
     */
    static void enableBf16Autocast() {
        for (torch.DeviceType type : new torch.DeviceType[] {torch.DeviceType.CPU, torch.DeviceType.CUDA}) {
            torch.set_autocast_dtype(type, torch.ScalarType.BFloat16);
            torch.set_autocast_enabled(type, true);
        }
        torch.set_autocast_cache_enabled(false);
    }

    static int cudaDevices() {
        load();
        try {
            return torch.cuda_is_available() ? torch.cuda_device_count() : 0;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return 0;
        }
    }

    /** Stage {@code stage}'s device: a CUDA device where present (round robin), else the CPU. */
    static String deviceName(int stage) {
        int cuda = cudaDevices();
        return cuda > 0 ? "cuda:" + (stage % cuda) : "cpu";
    }

    static Device device(String name) {
        return new Device(name);
    }
}
