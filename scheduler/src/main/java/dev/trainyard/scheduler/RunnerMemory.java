package dev.trainyard.scheduler;

/**
 * The device memory a runner reported: {@code deviceBytes} on its smallest device (null when it did not say), and
 * whether its devices are slices of one host sharing that memory (CPU devices) rather than each holding its own.
 */
public record RunnerMemory(Long deviceBytes, boolean shared) {

    private static final RunnerMemory UNKNOWN = new RunnerMemory(null, false);

    /** A runner whose memory is unknown is never judged too small. */
    public static RunnerMemory unknown() {
        return UNKNOWN;
    }

    /**
     * How many of {@code stages} from {@code first} on, at most {@code gpus}, these devices hold: shared memory
     * must hold the stages together, separate devices one stage each.
     */
    int stagesHeld(PipelineStages stages, int first, int gpus) {
        long together = 0;
        int held = 0;
        while (held < gpus && first + held < stages.count()) {
            long need = stages.bytes(first + held);
            if (deviceBytes != null && (shared ? together + need : need) > deviceBytes) {
                break;
            }
            together += need;
            held++;
        }
        return held;
    }
}
