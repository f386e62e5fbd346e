package dev.trainyard.runner.engine;

import java.util.List;

/**
 * The activations of all of one process's devices, as planned and as measured: the plan's figures above the
 * training state of its devices added up (each the larger of its activations and its optimizer step's buffers),
 * and how far the process's resident memory rose above the training state in the second step
 * ({@link ResidentMemory}). Resident memory is the process's, not a device's: where a process holds several stages
 * it is their sum at the moment the process peaked, which is at most the sum of their peaks.
 *
 * @param devices how many devices the figures cover
 * @param planActivationBytes the plan's figures above the training state of those devices, added up
 * @param measuredActivationBytes the measured rise; -1 where not measured (a run of one step)
 */
public record ProcessMemory(int devices, long planActivationBytes, long measuredActivationBytes) {

    static ProcessMemory of(List<DeviceMemory> devices, long measuredActivationBytes) {
        long plan =
                devices.stream().mapToLong(DeviceMemory::planActivationBytes).sum();
        return new ProcessMemory(devices.size(), plan, measuredActivationBytes);
    }

    /** Whether a step was measured. */
    public boolean measured() {
        return measuredActivationBytes >= 0;
    }

    /** The measured activations relative to the plan's: 1.0 when they agree. */
    public double measuredOverPlan() {
        return planActivationBytes == 0 ? 0 : (double) measuredActivationBytes / planActivationBytes;
    }
}
