package dev.trainyard.runner.engine;

/**
 * One device's memory as planned and as measured in training. {@code measuredStateBytes} is read from the device's
 * own tensors at the end of a step's backward, the plan's peak moment for the training state: parameters, the
 * gradients that exist then (whole at every ZeRO stage, since backward accumulates them whole) and the AdamW moments
 * held (whole, or this process's ZeRO slice). Activations are not measured: libtorch's allocator reports per thread
 * only to C++ hooks that the Java bindings cannot implement, so on CPU devices {@code planBytes} adds the plan's
 * activations unchecked. On a CUDA device {@code measuredPeakBytes} is the caching allocator's peak of allocated bytes
 * during the step ({@code torch.cuda.max_memory_allocated}), activations and temporaries included (written, not yet run
 * on a GPU).
 *
 * @param stage the pipeline stage
 * @param rank the tensor-parallel rank within the stage (0 without tensor parallelism)
 * @param planStateBytes the plan's weights, gradients and AdamW state for this device
 * @param planBytes the plan's whole peak for this device: the state plus the larger of the activations and the
 *     optimizer step's buffers
 * @param measuredStateBytes what the device's tensors held, as above
 * @param measuredPeakBytes the device's peak of allocated bytes in the step; 0 where not measured (CPU devices)
 */
public record DeviceMemory(
        int stage,
        int rank,
        String device,
        long planStateBytes,
        long planBytes,
        long measuredStateBytes,
        long measuredPeakBytes) {

    /**
     * The plan's peak above the training state for this device: its whole peak less the state, the larger of the
     * activations (and their temporaries) and the optimizer step's buffers.
     */
    public long planActivationBytes() {
        return planBytes - planStateBytes;
    }

    /** The measured state relative to the plan's: 1.0 when they agree. */
    public double measuredOverPlan() {
        return planStateBytes == 0 ? 0 : (double) measuredStateBytes / planStateBytes;
    }

    /** The metric name prefix of this device: {@code memory.stage0} or, with tensor parallelism, {@code .rank1}. */
    public String metricPrefix(boolean tensorParallel) {
        return "memory.stage" + stage + (tensorParallel ? ".rank" + rank : "");
    }
}
