package dev.trainyard.spec;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether one replica's memory plan ({@link MemoryPlan#perDevice}: the plan's device i on the runner's device i; with
 * tensor parallelism, stage s's ranks on devices s·t to s·t + t - 1) fits the devices a runner reports. Devices of kind {@code cpu} are slices of one host and share its memory, so the stages on them must
 * fit it together; any other device holds its own stage. A runner that does not say how much memory a device has
 * is never judged too small.
 */
public final class DeviceMemoryFit {

    /** One device as a runner reported it at registration; {@code memoryBytes} null when it did not say. */
    public record Device(String name, String kind, Long memoryBytes) {}

    private DeviceMemoryFit() {}

    /**
     * Why the plan's devices ({@code stages}, one estimate each) cannot run on {@code devices}, naming the numbers;
     * empty when they can, when the runner has fewer devices (the device count is checked apart from memory), or
     * when its memory is unknown.
     */
    public static Optional<String> shortfall(List<MemoryEstimate> stages, List<Device> devices) {
        if (stages.isEmpty() || devices.size() < stages.size()) {
            return Optional.empty();
        }
        List<Device> used = devices.subList(0, stages.size());
        if (used.stream().anyMatch(d -> d.memoryBytes() == null)) {
            return Optional.empty();
        }
        long sharedNeed = 0;
        long sharedHas = Long.MAX_VALUE;
        int sharedStages = 0;
        for (int i = 0; i < stages.size(); i++) {
            Device device = used.get(i);
            long need = stages.get(i).totalBytes();
            if ("cpu".equals(device.kind())) {
                sharedNeed += need;
                sharedHas = Math.min(sharedHas, device.memoryBytes());
                sharedStages++;
            } else if (need > device.memoryBytes()) {
                return Optional.of(String.format(
                        Locale.ROOT,
                        "the plan's device %d needs %s (weights, gradients, AdamW state and activations) but device %s has %s",
                        i,
                        gib(need),
                        device.name(),
                        gib(device.memoryBytes())));
            }
        }
        if (sharedStages > 0 && sharedNeed > sharedHas) {
            return Optional.of(String.format(
                    Locale.ROOT,
                    "%s %s (weights, gradients, AdamW state and activations) but the host memory its cpu devices"
                            + " share is %s",
                    sharedStages == 1 ? "the plan needs" : "the plan's " + sharedStages + " devices need together",
                    gib(sharedNeed),
                    gib(sharedHas)));
        }
        return Optional.empty();
    }

    /** Bytes in GiB with one decimal, or in MiB below 1 GiB, where a tenth of a GiB would hide the figures. */
    public static String gib(long bytes) {
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
